"""A second opinion on ccenv's PowerShell output: the tree-sitter PowerShell grammar
(PyPI tree-sitter-powershell, written by others) parses the text on stdin and this
prints, as JSON, whether it parsed without error and what each top-level statement is.

Only the statement shapes ccenv means to emit are recognised; anything else is
reported as "other" with its text, and the Rust test fails on it:
  $env:NAME = '<verbatim>'                                   -> {"set": NAME, "value": …}
  $env:NAME = [Text.Encoding]::UTF8.GetString(
                [Convert]::FromBase64String('<base64>'))     -> {"set": NAME, "value": …}
  Remove-Item -LiteralPath 'Env:NAME' -ErrorAction Ignore    -> {"unset": NAME}
  $global:NAME = <expression without any command>           -> {"global": NAME, "rhs": text}
"""

import base64
import json
import re
import sys

import tree_sitter_powershell
from tree_sitter import Language, Parser

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
BASE64_CALL = "[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String({}))"


def nodes(node):
    yield node
    for child in node.children:
        yield from nodes(child)


def verbatim(node):
    """The value of a '...' literal: ccenv's output is ASCII, so ' is the only quote."""
    text = node.text.decode()
    assert text[0] == "'" and text[-1] == "'", text
    return text[1:-1].replace("''", "'")


def literals(node):
    return [n for n in nodes(node) if n.type == "verbatim_string_characters"]


def assignment(stmt):
    assign = next((c for c in stmt.children if c.type == "assignment_expression"), None)
    if assign is None or len(stmt.children) != 1:
        return None
    left, op, right = assign.children
    var = [n for n in nodes(left) if n.type == "variable"]
    if op.text != b"=" or len(var) != 1 or var[0].text != left.text:
        return None
    target = var[0].text.decode()
    rhs = right.text.decode()
    if re.fullmatch(r"\$env:" + NAME, target):
        lits = literals(right)
        if any(n.type in ("command", "expandable_string_literal") for n in nodes(right)) or len(lits) != 1:
            return None
        lit = lits[0].text.decode()
        if rhs == lit:
            return {"set": target[5:], "value": verbatim(lits[0])}
        if rhs == BASE64_CALL.format(lit):
            return {"set": target[5:], "value": base64.b64decode(verbatim(lits[0])).decode("utf-8")}
        return None
    if re.fullmatch(r"\$global:" + NAME, target):
        if any(n.type == "command" for n in nodes(right)):
            return None
        return {"global": target[8:], "rhs": rhs}
    return None


def removal(stmt):
    cmd = [n for n in nodes(stmt) if n.type == "command"]
    if len(cmd) != 1 or None in (cmd[0].child_by_field_name(f) for f in ("command_name", "command_elements")):
        return None
    elements = [c for c in cmd[0].child_by_field_name("command_elements").children if c.type != "command_argument_sep"]
    shape = [(e.type, e.text.decode()) for e in elements]
    if (
        cmd[0].child_by_field_name("command_name").text == b"Remove-Item"
        and stmt.text == cmd[0].text
        and len(shape) == 4
        and shape[0] == ("command_parameter", "-LiteralPath")
        and shape[2] == ("command_parameter", "-ErrorAction")
        and shape[3] == ("generic_token", "Ignore")
        and len(literals(elements[1])) == 1
        and elements[1].text == literals(elements[1])[0].text
    ):
        target = verbatim(literals(elements[1])[0])
        if re.fullmatch("Env:" + NAME, target):
            return {"unset": target[4:]}
    return None


def main():
    source = sys.stdin.buffer.read()
    tree = Parser(Language(tree_sitter_powershell.language())).parse(source)
    root = tree.root_node
    bad = [n for n in nodes(root) if n.type == "ERROR" or n.is_missing]
    statements = []
    if sys.argv[1:] == ["statements"]:
        for top in root.children:
            for stmt in (top.children if top.type == "statement_list" else [top]):
                statements.append(assignment(stmt) or removal(stmt) or {"other": stmt.text.decode()})
    at = [f"{n.start_point[0] + 1}:{n.start_point[1] + 1}" for n in bad]
    print(json.dumps({"error": root.has_error, "error_at": at, "statements": statements}))


main()
