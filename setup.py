import os
import re

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with open(os.path.join(HERE, *parts), encoding="utf-8") as f:
        return f.read()


VERSION = re.search(r'^__version__ = "([^"]+)"', read("realtime", "__init__.py"), re.M).group(1)

setup(
    name="realtime-chat",
    version=VERSION,
    description="A realtime chat server on gevent and python-socketio",
    long_description=read("README.md"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=["realtime", "realtime.store", "realtime.web"],
    package_dir={"realtime.web": "web"},
    package_data={"realtime.web": ["*.html", "*.js", "*.css", "*.svg", "*.png", "*.ico"]},
    install_requires=[
        "gevent>=24.2",
        "gevent-websocket>=0.10.1",
        "python-socketio>=5.11,<6",
        "python-engineio>=4.9,<5",
        "gunicorn[gevent]>=22",
        "prometheus-client>=0.17",
    ],
    extras_require={
        "redis": ["redis>=5"],
        "speed": ["orjson>=3.8"],
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.2",
            "python-socketio[client]>=5.11,<6",
            "redis>=5",
            "hypothesis>=6",
            "selenium>=4.20,<4.52",
            "orjson>=3.8",
        ],
    },
    entry_points={"console_scripts": ["realtime = realtime.__main__:main"]},
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Framework :: Flask",
        "Topic :: Communications :: Chat",
    ],
)
