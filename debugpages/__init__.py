"""debugpages: the pages a Python web application sends when something goes wrong.

``PythonDebug On|Off`` done right: ``off`` (the default) sends the canonical 500
page with a reference that matches the log, ``on`` the traceback page with status
500, and ``legacy-200`` mod_python 3.2's traceback-with-200, labelled as such.
"""

from .asgi import ASGIErrorPages
from .editor import Editor
from .policy import Policy
from .sensitive import sensitive_variables
from .switch import ConfigurationError, Mode
from .wsgi import ErrorPages

__all__ = [
    "ASGIErrorPages",
    "ConfigurationError",
    "Editor",
    "ErrorPages",
    "Mode",
    "Policy",
    "sensitive_variables",
]
__version__ = "0.1.0"
