"""Packaging: ``python -m build`` makes the sdist and the wheel.

The top-level ``web/`` directory (the chat page) ships inside the package as
``realtime/web/`` so an installed copy serves the page from any directory;
:func:`realtime.web.web_dir` falls back to ``<repo>/web`` for a checkout.
"""

import os
import re

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with open(os.path.join(HERE, *parts), encoding="utf-8") as f:
        return f.read()


# The single version string lives in realtime/__init__.py.
VERSION = re.search(r'^__version__ = "([^"]+)"', read("realtime", "__init__.py"), re.M).group(1)

SOCKETIO = "python-socketio[client]>=5.11,<6"

setup(
    name="realtime-chat",
    version=VERSION,
    description="A realtime chat server on gevent and python-socketio",
    long_description=read("README.md"),
    long_description_content_type="text/markdown",
    author="The realtime authors",
    license="MIT",
    license_files=["LICENSE"],
    # No project URLs yet: the repository has no public home to point at.
    python_requires=">=3.10",
    packages=["realtime", "realtime.api", "realtime.auth", "realtime.chat", "realtime.scaleout",
              "realtime.store", "realtime.transport", "realtime.web"],
    package_dir={"realtime.web": "web"},
    # Everything in web/ (page, script, styles, the Socket.IO client, images).
    package_data={"realtime.web": ["*", "**/*"]},
    include_package_data=True,
    zip_safe=False,
    install_requires=[
        "gevent>=24.2",
        "gevent-websocket>=0.10.1",
        # [client]: requests + websocket-client for `realtime say/listen`.
        SOCKETIO,
        "python-engineio>=4.9,<5",
        # [gevent]: gunicorn's gevent worker imports `packaging`.
        "gunicorn[gevent]>=22",
        "prometheus-client>=0.17",
        # JWT from the embedder's backend; [crypto]: cryptography for RS256/ES256.
        "PyJWT[crypto]>=2.8",
    ],
    extras_require={
        "redis": ["redis>=5"],
        # psycopg 3 with its C speed-ups (binary wheel) and the connection pool.
        "postgres": ["psycopg[binary]>=3.3,<3.4", "psycopg-pool>=3.3,<3.4"],
        "speed": ["orjson>=3.8"],
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.2",
            "redis>=5",
            "psycopg[binary]>=3.3,<3.4",
            "psycopg-pool>=3.3,<3.4",
            "hypothesis>=6",
            "selenium>=4.20,<4.52",
            "flask>=2.2",
            "build>=1.0",
            "twine>=6.1",
            "orjson>=3.8",
        ],
    },
    entry_points={"console_scripts": ["realtime = realtime.__main__:main"]},
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Web Environment",
        "Intended Audience :: Developers",
        "Operating System :: POSIX",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Framework :: Flask",
        "Topic :: Communications :: Chat",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Application",
    ],
)
