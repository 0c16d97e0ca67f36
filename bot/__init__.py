"""The matchmaker bot."""

import os as _os

# numpy reads these when it is first imported (the matcher's vectors, the encoder): one BLAS
# thread, so a matrix product never takes every core from the event loop and the other users.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
