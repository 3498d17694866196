#!/bin/sh
# placeholder
"$1" --help >/dev/null
