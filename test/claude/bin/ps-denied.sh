#!/bin/sh
# Stands in for a `ps` that is not allowed to read the table.
echo "ps: kvm_getprocs: Operation not permitted" >&2
exit 1
