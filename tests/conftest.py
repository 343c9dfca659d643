"""Root test configuration.

Qt must never try to open a real display (CI machines have none), and the platform plugin is
chosen when the first QApplication is created, so the variable is set at import, before any test
module can import PyQt6. ``setdefault`` keeps a developer's explicit choice (e.g. ``xcb``).
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
