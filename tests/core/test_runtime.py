"""A web server process settles at start-up: every view imported, the heap frozen."""

import subprocess
import sys


def test_a_server_process_starts_with_its_views_loaded_and_its_heap_frozen(tmp_path):
    code = (
        "import gc, sys; import kehu.wsgi; "
        "print(gc.get_freeze_count(), 'kehu.customers.views' in sys.modules)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "kehu.settings", "KEHU_ENV": "test",
           "KEHU_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    frozen, views_loaded = out.stdout.split()
    assert int(frozen) > 50_000 and views_loaded == "True"
