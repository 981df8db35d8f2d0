"""Entry script for the PyInstaller bundle (the package's ``__main__`` uses relative imports, so it cannot be
the script itself)."""

import multiprocessing

from adalora_studio.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
