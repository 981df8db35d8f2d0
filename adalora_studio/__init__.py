"""AdaLoRA Studio: fine-tune Hugging Face models with AdaLoRA and see what it does."""

__version__ = "0.1.0"
