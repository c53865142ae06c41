"""MPCSFaaS Python SDK: run Python functions on an MPCSFaaS platform.

    from mpcsfaas import FaaSExecutor

    with FaaSExecutor("http://127.0.0.1:8000") as ex:
        print(list(ex.map(pow, range(10), range(10))))

``Client`` is the thin REST client; ``serialize``/``deserialize`` the platform's payload encoding.
"""

from .client import Client, TaskOptions
from .errors import MPCSFaaSError, RemoteError, RemoteTraceback
from .executor import FaaSExecutor
from .serialization import deserialize, dumps_by_value, serialize, serialize_by_value

__version__ = "0.1.0"

__all__ = [
    "Client",
    "FaaSExecutor",
    "MPCSFaaSError",
    "RemoteError",
    "RemoteTraceback",
    "TaskOptions",
    "deserialize",
    "dumps_by_value",
    "serialize",
    "serialize_by_value",
    "__version__",
]
