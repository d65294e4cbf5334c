#!/bin/bash
# 35-disk-full.sh on ext4, an image the test makes and mounts, where the
# capture files are written with O_DIRECT on the file thread: a write
# that fails there is found as on a tmpfs, and recorded the same.
DF_FS=ext4 exec bash "$(dirname "$0")/35-disk-full.sh" "$@"
