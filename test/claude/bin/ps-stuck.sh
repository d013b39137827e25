#!/bin/sh
# A `ps` that never answers, as one blocked on a /proc read of a process in uninterruptible sleep would.
exec sleep 3600
