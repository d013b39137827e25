#!/bin/sh
# Stands in for a `ps` whose output is not a process table.
echo "  12 this is not a process line"
