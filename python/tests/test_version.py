"""The SDK's version is the project's: the top-level <version> of the Maven pom (../../pom.xml)."""

import os
import sys
import xml.etree.ElementTree as ET

import pytest

import mpcsfaas

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(TESTS_DIR)
POM = os.path.join(PYTHON_DIR, os.pardir, "pom.xml")


def project_version(pom_path):
    """The version of the project itself (project/version), not of its parent or a dependency."""
    root = ET.parse(pom_path).getroot()
    namespace = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    assert root.tag == namespace + "project"
    version = root.find(namespace + "version")  # a direct child only
    assert version is not None and version.text, "%s has no top-level <version>" % pom_path
    return version.text.strip()


def test_the_tests_use_the_source_tree():
    assert os.path.dirname(os.path.abspath(mpcsfaas.__file__)) == os.path.join(PYTHON_DIR, "mpcsfaas")


def test_version_equals_the_pom_version():
    assert mpcsfaas.__version__ == project_version(POM)


def test_project_version_reads_the_top_level_version_only(tmp_path):
    pom = tmp_path / "pom.xml"
    pom.write_text('<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">'
                   "<parent><version>9.9.9</version></parent><version>1.2.3</version>"
                   "<dependencies><dependency><version>5.0.7</version></dependency></dependencies></project>")
    assert project_version(str(pom)) == "1.2.3"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_pyproject_takes_the_version_and_ships_py_typed():
    import tomllib

    with open(os.path.join(PYTHON_DIR, "pyproject.toml"), "rb") as f:
        config = tomllib.load(f)
    assert "version" not in config["project"]
    assert "version" in config["project"]["dynamic"]
    setuptools = config["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "mpcsfaas.__version__"}
    assert "py.typed" in setuptools["package-data"]["mpcsfaas"]
    assert os.path.isfile(os.path.join(PYTHON_DIR, "mpcsfaas", "py.typed"))
