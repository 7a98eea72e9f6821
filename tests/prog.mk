# Tests of the helper: criterion suites and end-to-end scripts with the go command.
