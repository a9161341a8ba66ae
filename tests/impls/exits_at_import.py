"""For `twonet check --impl`: code that ends the process as it is imported."""

import os

os._exit(0)
