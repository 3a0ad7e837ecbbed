#!/usr/bin/env python
"""Django's command-line utility; the ``kehu`` command is the friendlier front."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
