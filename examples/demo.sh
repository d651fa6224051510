#!/bin/sh
# examples/demo.sh: the sandbox demo behind `make demo` (issue 10).
echo "make demo: not yet: the sandbox demo lands with issue 10."
