"""Write docs/api.md, minigrad's API reference, from the code itself.

    python docs/generate_api.py           # regenerate docs/api.md (commit the result)
    python docs/generate_api.py --check   # exit 1, printing the difference, if it is stale

Nothing here names minigrad's modules or functions: the reference is whatever the code offers
at the time it runs. Every importable module of the package whose dotted name has no part
starting with "_" is public. A module's public names are its ``__all__``; without one, the
classes and functions it defines (a package also counts those it imports from minigrad).
Each class and function is described once, in full, in its home: the module that defines it
when that module is public, else the first public module that exports it; other modules that
export it list it by name. A class's entry lists its public methods and properties (those it
defines itself; names starting with "_" are not public). Each entry has its signature and the
first paragraph of its docstring.
"""
import argparse
import difflib
import importlib
import importlib.machinery
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api.md"
PACKAGE = "minigrad"
REGENERATE = "python docs/generate_api.py"


def _module_names(package_name: str, folder: Path) -> list:
    """Dotted names of the modules under ``folder`` (namespace folders included, which
    pkgutil skips), private ones excepted."""
    suffixes = [".py"] + importlib.machinery.EXTENSION_SUFFIXES
    names = []
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is None:
            continue
        parts = list(path.relative_to(folder).parts)
        parts[-1] = path.name[:-len(suffix)]
        if parts[-1] == "__init__":
            parts.pop()
        if not any(part.startswith("_") for part in parts):
            names.append(".".join([package_name, *parts]))
    return names


def public_modules(package_name: str = PACKAGE) -> list:
    """The package and its public submodules, imported, sorted by name."""
    package = importlib.import_module(package_name)
    names = {package_name}
    for folder in package.__path__:
        names.update(_module_names(package_name, Path(folder)))
    return [importlib.import_module(name) for name in sorted(names)]


def _is_api_object(value) -> bool:
    return inspect.isclass(value) or inspect.isroutine(value)


def _defined_in_package(value, package_name: str) -> bool:
    module = getattr(value, "__module__", None) or ""
    return module == package_name or module.startswith(package_name + ".")


def exported(module) -> dict:
    """name -> object of the module's public names."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return {name: getattr(module, name) for name in names if hasattr(module, name)}
    package_name = module.__name__.split(".")[0]
    is_package = hasattr(module, "__path__")
    result = {}
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if _is_api_object(value):
            own = getattr(value, "__module__", None) == module.__name__
            if own or (is_package and _defined_in_package(value, package_name)):
                result[name] = value
        elif is_package and type(value).__module__ != "typing":
            result[name] = value  # a package's constants: minigrad.float32, ...
    return result


def homes(modules: list) -> dict:
    """id(object) -> the module name where the object is described in full."""
    public = {module.__name__ for module in modules}
    result = {}
    for module in modules:
        for value in exported(module).values():
            if not _is_api_object(value):
                continue
            defining = getattr(value, "__module__", None)
            if defining in public:
                result[id(value)] = defining
            else:
                result.setdefault(id(value), module.__name__)
    return result


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def signature(value) -> str:
    try:
        text = str(inspect.signature(value))
    except (TypeError, ValueError):  # builtins and C types that do not say
        text = "(...)"
    return _ADDRESS.sub("", text)


def summary(value) -> str:
    """The first paragraph of the object's own docstring, on one line."""
    doc = value.__doc__ if isinstance(getattr(value, "__doc__", None), str) else ""
    if inspect.isclass(value) and doc == getattr(object, "__doc__"):
        doc = ""
    lines = inspect.cleandoc(doc).strip().split("\n\n")[0].split("\n") if doc else []
    return " ".join(line.strip() for line in lines)


def _entry(label: str, value) -> str:
    text = summary(value)
    return f"- {label}" + (f": {text}" if text else "")


def _without_first(text: str) -> str:
    """A method's signature without self (or a classmethod's cls)."""
    return re.sub(r"^\((self|cls)(, |\))", lambda m: "(" if m.group(2) == ", " else "()", text)


def class_members(cls) -> list:
    """Lines for the public methods and properties the class defines itself."""
    lines = []
    for name in sorted(vars(cls)):
        if name.startswith("_"):
            continue
        member = vars(cls)[name]
        if isinstance(member, property):
            lines.append("  " + _entry(f"property `{name}`", member.fget or member))
        elif isinstance(member, staticmethod):
            function = member.__func__
            lines.append("  " + _entry(f"staticmethod `{name}{signature(function)}`", function))
        elif isinstance(member, classmethod):
            function = member.__func__
            arguments = _without_first(signature(function))
            lines.append("  " + _entry(f"classmethod `{name}{arguments}`", function))
        elif inspect.isroutine(member):
            lines.append("  " + _entry(f"`{name}{_without_first(signature(member))}`", member))
    return lines


def module_section(module, home_of: dict) -> list:
    name = module.__name__
    lines = [f"## `{name}`", ""]
    if summary(module):
        lines += [summary(module), ""]
    classes, functions, elsewhere, data = [], [], [], []
    for export, value in sorted(exported(module).items()):
        if inspect.ismodule(value):  # a submodule: it has its own section
            continue
        if not _is_api_object(value):
            data.append(export)
        elif home_of.get(id(value)) != name:
            elsewhere.append(f"`{export}` ({home_of.get(id(value))})")
        elif inspect.isclass(value):
            classes.append((export, value))
        else:
            functions.append((export, value))
    for export, cls in classes:
        lines.append(_entry(f"class `{export}{signature(cls)}`", cls))
        lines += class_members(cls)
    for export, function in functions:
        lines.append(_entry(f"`{export}{signature(function)}`", function))
    if data:
        lines.append("- data: " + ", ".join(f"`{export}`" for export in data))
    if elsewhere:
        lines.append("- also here: " + ", ".join(elsewhere))
    return lines + [""]


def generate(package_name: str = PACKAGE) -> str:
    modules = public_modules(package_name)
    home_of = homes(modules)
    lines = [f"# {package_name} API reference", "",
             f"Generated from the code by `{REGENERATE}`: do not edit by hand. CI fails when "
             "this file differs from what the code generates.", "",
             "Every public module, with its classes (and their public methods and properties) "
             "and functions: signature and the first paragraph of the docstring. A name that "
             "a module re-exports is described where it lives, and listed as \"also here\".",
             "", "## Modules", ""]
    for module in modules:
        anchor = module.__name__.replace(".", "")
        lines.append(f"- [`{module.__name__}`](#{anchor})")
    lines.append("")
    for module in modules:
        lines += module_section(module, home_of)
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with docs/api.md instead of writing it")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # this checkout's minigrad (or, unbuilt, the installed one)
    text = generate()
    if not args.check:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
        return 0
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if current == text:
        print(f"{OUTPUT.relative_to(ROOT)} matches the code")
        return 0
    diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                     "docs/api.md (committed)", "docs/api.md (from the code)",
                                     lineterm=""))
    print("\n".join(diff[:80] + ([f"... {len(diff) - 80} more lines"] if len(diff) > 80 else [])))
    print(f"\ndocs/api.md is out of date with the code: run `{REGENERATE}` and commit it.",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
