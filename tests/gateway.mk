# Tests of the gateway: criterion suites and end-to-end scripts.
