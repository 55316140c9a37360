#!/usr/bin/env python3
"""tests/run/test_manpage.py — the manual page kvmstub.1 and the README say
what `kvmstub --help` says: the same options (compared as sets, exactly:
an option missing from either side, or left over in it, fails), the same
exit statuses, the same version; and `man ./kvmstub.1` renders it without
a warning."""
import os
import re
import subprocess

import testlib
from testlib import run

MANPAGE = os.path.join(testlib.ROOT, "kvmstub.1")
README = os.path.join(testlib.ROOT, "README.md")
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def help_text():
    status, out, err = run(["--help"], timeout=10)
    assert status == 0 and err == b"", (status, err)
    return out.decode()


def help_options():
    """Every option a line of --help's options list starts with."""
    text = help_text()
    lines = text.split("\noptions")[1].split("\n\n")[0].splitlines()[1:]
    found = set()
    for line in lines:
        if re.match(r"^  -", line):
            tag = re.split(r"\s{2,}", line.strip())[0]
            found.update(OPTION.findall(tag))
    assert "--help" in found and len(found) >= 5, text
    return found


def rendered_manpage(width=100):
    """`man ./kvmstub.1` as plain text; stderr must stay empty."""
    env = dict(os.environ, MANWIDTH=str(width), MANPAGER="cat", PAGER="cat",
               LC_ALL="C.UTF-8")
    env.pop("MAN_KEEP_FORMATTING", None)
    proc = subprocess.run(["man", "--warnings", "-l", MANPAGE], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b"", "man warns: " + proc.stderr.decode()
    return re.sub(r".\x08", "", proc.stdout.decode())


def man_section(text, name):
    """The lines of section NAME of a rendered page (headings are not indented)."""
    lines = text.splitlines()
    start = lines.index(name) + 1
    end = next((i for i in range(start, len(lines))
                if lines[i] and not lines[i][0].isspace()), len(lines))
    return lines[start:end]


def man_options():
    """Every option of a tag line (indented 7 columns, starting with -)
    in the OPTIONS section."""
    found = set()
    for line in man_section(rendered_manpage(), "OPTIONS"):
        if re.match(r"^ {7}-", line):
            tag = re.split(r"\s{2,}", line.strip())[0]
            found.update(OPTION.findall(tag))
    return found


def readme_options():
    """Every option in the first column of README's option table."""
    with open(README) as f:
        readme = f.read()
    table = readme.split("\n## Command line\n")[1].split("\n## ")[0]
    found = set()
    for row in re.findall(r"^\| (`-.*?) \|", table, re.M):
        for code in re.findall(r"`([^`]*)`", row):
            found.update(OPTION.findall(code.split(" ")[0]))
    return found


def compare(name, theirs, ours):
    missing, extra = sorted(ours - theirs), sorted(theirs - ours)
    assert not missing and not extra, (
        "%s and --help differ: missing from %s %s; not in --help %s"
        % (name, name, missing, extra))


def test_manpage_renders_with_man_without_warnings():
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MANPAGE],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
    text = rendered_manpage(80)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "THE MACHINE",
                    "EXIT STATUS", "EXAMPLES"):
        assert heading in text.splitlines(), "no %s section:\n%s" % (heading, text)
    assert "kvmstub - run a tiny x86 kernel" in text, text
    assert max(len(l) for l in text.splitlines()) <= 80, "a line overflows 80 columns"


def test_manpage_lists_exactly_the_options_of_help():
    compare("kvmstub.1", man_options(), help_options())


def test_readme_option_table_lists_exactly_the_options_of_help():
    compare("README.md", readme_options(), help_options())


def statuses(lines):
    """The exit statuses a list of lines documents: numbers and the exit
    device's (v << 1) | 1, written as `(v<<1)|1`."""
    found = set()
    for line in lines:
        m = re.match(r"^\s*(\d+|\(v ?<< ?1\) ?\| ?1)(\s|$)", line)
        if m:
            found.add(m.group(1).replace(" ", ""))
    return found


def test_manpage_exit_statuses_are_those_of_help_and_readme():
    text = help_text()
    from_help = statuses(text.split("\nexit status:\n")[1].splitlines())
    from_man = statuses(man_section(rendered_manpage(), "EXIT STATUS"))
    with open(README) as f:
        table = f.read().split("\n## Exit statuses\n")[1].split("\n## ")[0]
    from_readme = set()
    # A cell's \| is a | of its text, not the end of the cell.
    for cell in re.findall(r"^\| ([^|]*?) \|", table.replace("\\|", "\x00"), re.M):
        cell = cell.replace("\x00", "|").replace("`", "")
        if cell.startswith("odd:"):
            cell = cell[len("odd:"):].strip()
        from_readme |= statuses([cell])
    assert "(v<<1)|1" in from_help and "0" in from_help, from_help
    assert from_man == from_help, (from_man, from_help)
    assert from_readme == from_help, (from_readme, from_help)


def test_manpage_version_is_the_version_of_the_binary():
    status, out, _ = run(["--version"], timeout=10)
    assert status == 0, status
    version = out.decode().split()[-1]
    with open(MANPAGE) as f:
        th = [l for l in f if l.startswith(".TH ")]
    assert len(th) == 1 and '"kvmstub %s"' % version in th[0], (th, version)


if __name__ == "__main__":
    testlib.main(globals())
