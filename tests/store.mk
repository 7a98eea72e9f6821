# Criterion tests of the store.
