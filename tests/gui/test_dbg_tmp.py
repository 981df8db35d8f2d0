import traceback
from tests.gui.test_wizard import *

def test_dbg(qtbot, worker):
    wizard = make_wizard(qtbot, worker, demo_config())
    wait_ready(qtbot, wizard); wizard.next(); wait_ready(qtbot, wizard); wizard.next(); wait_ready(qtbot, wizard)
    wizard.next(); wait_ready(qtbot, wizard); wizard.next()
    t = wizard.budget_page._recompute_timer
    orig = t.start
    def start(*a):
        traceback.print_stack(limit=8)
        orig(*a)
    wizard.budget_page._recompute_timer.start = start
    qtbot.wait(500)
    print("active", t.isActive(), wizard.budget_page.problem())
    assert 0
