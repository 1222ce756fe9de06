"""Text to expression tree, without executing anything (docs/design.md §2 and §4).

Parsing is an own tokenizer and recursive-descent parser over a small grammar
(Python's precedences)::

    identity   := expression ('=' | '==') expression
    expression := product (('+' | '-') product)*
    product    := unary (('*' | '/' | '@') unary)*
    unary      := ('-' | '+') unary | power
    power      := postfix ('**' unary)?
    postfix    := atom ('.T' | 'ᵀ')*
    atom       := NUMBER | NAME | NAME '(' arguments ')' | '(' expression ')'
                  (a NAME is a variable, or a dimension standing for its size)
                | '[' numbers ']' | '[' '[' numbers ']' (',' '[' numbers ']')* ']'
                | 'd' '(' expression ')' '/' 'd' '(' NAME ')'

The tokens come from :mod:`matcalc.tokens`, the meaning of names from
:mod:`matcalc.scope`. It runs in two passes. The first turns text into a
:class:`Syntax` tree: every syntax error, unknown name, absurd constant and
bound of :mod:`matcalc.limits` is found here, with the position of the
offending token.
The second builds the typed :mod:`matcalc.expr` tree, checking shapes; so a
text that is both malformed and ill-shaped is reported as malformed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import expr as E
from . import limits
from .errors import LimitError, ParseError, UnknownNameError, did_you_mean
from .ops import FUNCTIONS, INFIX, REGISTRY
from .scope import Scope, parse_shape, scope_from, variable_name
from .shapes import Dim
from .tokens import MISTAKES, Token, checked_constant, literal_value, tokenize
from .surface import var_hint

#: the scope's names are read through this module, the language's front door
__all__ = ["Scope", "Syntax", "build", "parse_expression", "parse_identity",
           "parse_identity_syntax", "parse_shape", "parse_syntax", "scope_from", "tokenize",
           "variable_name"]


# ---------------------------------------------------------------------------
# Pass 1: text -> Syntax


@dataclass(frozen=True)
class Syntax:
    kind: str  # num array size name call binop neg T d
    pos: int
    value: Any = None
    args: tuple[Syntax, ...] = ()
    dims: tuple[Dim, ...] = ()
    height: int = field(default=1, compare=False)


class _Parser:
    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.scope = scope
        self._stream = tokenize(text)
        self.tokens: list[Token] = []
        self.i = 0
        self.nesting = 0
        self.nodes = 0
        self.open_parens: list[int] = []

    # -- token helpers

    def lookahead(self, k: int) -> Token:
        """The token ``k`` places ahead, reading the text only as far as needed."""
        while len(self.tokens) <= self.i + k:
            if self.tokens and self.tokens[-1].kind == "end":
                return self.tokens[-1]
            self.tokens.append(next(self._stream))
        return self.tokens[self.i + k]

    def peek(self) -> Token:
        return self.lookahead(0)

    def next(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.i += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == text

    def expect(self, text: str, context: str) -> Token:
        token = self.peek()
        if token.kind == "op" and token.text == text:
            return self.next()
        if token.kind == "bad":
            raise self.unexpected(token)
        if text == ")" and token.kind == "end" and self.open_parens:
            raise ParseError(
                f"unbalanced parentheses: '(' at position {self.open_parens[-1]} is never closed",
                position=self.open_parens[-1],
                token="(",
            )
        found = "the end of the input" if token.kind == "end" else f"'{token.text}'"
        raise ParseError(
            f"expected '{text}' {context}, found {found}", position=token.pos, token=token.text
        )

    def unexpected(self, token: Token) -> ParseError:
        if token.kind == "bad":
            return ParseError(f"unexpected character {token.text!r}", position=token.pos,
                              token=token.text, hint=MISTAKES.get(token.text))
        if token.kind == "end":
            return ParseError("unexpected end of input", position=token.pos)
        if token.text == ")":
            return ParseError(
                "unbalanced parentheses: ')' has no matching '('", position=token.pos, token=")"
            )
        if token.text in ("=", "=="):
            return ParseError(
                f"unexpected '{token.text}': an identity has exactly one '='",
                position=token.pos,
                token=token.text,
            )
        return ParseError(f"unexpected '{token.text}'", position=token.pos, token=token.text)

    def node(self, kind: str, pos: int, value: Any = None, args: tuple[Syntax, ...] = (),
             dims: tuple[Dim, ...] = ()) -> Syntax:
        self.nodes += 1
        if self.nodes > limits.MAX_NODES:
            raise LimitError(
                f"expression is too large (more than {limits.MAX_NODES} nodes)", position=pos
            )
        height = 1 + max((a.height for a in args), default=0)
        if height > limits.MAX_HEIGHT:
            raise LimitError(
                f"expression is nested too deeply (tree height above {limits.MAX_HEIGHT})",
                position=pos,
            )
        return Syntax(kind, pos, value, args, dims, height)

    def enter(self, pos: int) -> None:
        self.nesting += 1
        if self.nesting > limits.MAX_NESTING:
            raise LimitError(
                f"expression is nested too deeply (more than {limits.MAX_NESTING} levels)",
                position=pos,
            )

    # -- grammar

    def identity(self) -> tuple[Syntax, Syntax]:
        lhs = self.expression()
        token = self.peek()
        if token.kind == "end":
            raise ParseError(
                "missing '= claim': an identity looks like d(f)/d(x) = g",
                position=token.pos,
            )
        if not (self.at("=") or self.at("==")):
            raise self.unexpected(token)
        self.next()
        if self.peek().kind == "end":
            raise ParseError("missing the claim after '='", position=self.peek().pos)
        rhs = self.expression()
        self.finish()
        return lhs, rhs

    def finish(self) -> None:
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)

    def expression(self) -> Syntax:
        left = self.product()
        while self.at("+") or self.at("-"):
            op = self.next()
            left = self.binop(op, left, self.product())
        return left

    def product(self) -> Syntax:
        left = self.unary()
        while self.at("*") or self.at("/") or self.at("@"):
            op = self.next()
            left = self.binop(op, left, self.unary())
        return left

    def unary(self) -> Syntax:
        if self.at("-") or self.at("+"):
            op = self.next()
            self.enter(op.pos)
            operand = self.unary()
            self.nesting -= 1
            if op.text == "+":
                return operand
            if operand.kind == "num":
                return self.node("num", op.pos, -operand.value)
            return self.node("neg", op.pos, args=(operand,))
        return self.power()

    def power(self) -> Syntax:
        base = self.postfix()
        if self.at("**"):
            op = self.next()
            self.enter(op.pos)
            exponent = self.unary()
            self.nesting -= 1
            return self.binop(op, base, exponent)
        return base

    def postfix(self) -> Syntax:
        node = self.atom()
        while True:
            if self.at("ᵀ"):
                node = self.node("T", self.next().pos, args=(node,))
            elif self.at("."):
                dot = self.next()
                attr = self.peek()
                if attr.kind == "name" and attr.text == "T":
                    self.next()
                    node = self.node("T", dot.pos, args=(node,))
                else:
                    shown = attr.text or "nothing"
                    raise ParseError(
                        f"attribute access '.{shown}' is not allowed; only '.T' (transpose)",
                        position=dot.pos,
                        token=f".{attr.text}",
                    )
            else:
                return node

    def atom(self) -> Syntax:
        token = self.peek()
        if token.kind == "number":
            self.next()
            return self.node("num", token.pos, literal_value(token))
        if token.kind == "name":
            return self.name_or_call()
        if self.at("("):
            self.next()
            self.enter(token.pos)
            self.open_parens.append(token.pos)
            inner = self.expression()
            self.expect(")", f"to close '(' at position {token.pos}")
            self.open_parens.pop()
            self.nesting -= 1
            return inner
        if self.at("["):
            return self.array()
        raise self.unexpected(token)

    def array(self) -> Syntax:
        start = self.peek()
        if self.lookahead(1).text != "[":
            entries = self.array_row()  # [1, 2, 3] is a column
            return self.node("array", start.pos, tuple((v,) for v in entries))
        self.next()
        rows = [self.array_row()]
        while self.at(","):
            self.next()
            rows.append(self.array_row())
        self.expect("]", f"to close '[' at position {start.pos}")
        if len({len(r) for r in rows}) != 1:
            raise ParseError(
                "the rows of a literal matrix have different lengths", position=start.pos, token="["
            )
        return self.node("array", start.pos, tuple(rows))

    def array_row(self) -> tuple[Fraction, ...]:
        start = self.expect("[", "to start a row of a literal array")
        values = [self.array_entry()]
        while self.at(","):
            self.next()
            values.append(self.array_entry())
        self.expect("]", f"to close '[' at position {start.pos}")
        if len(values) > limits.MAX_DIM:
            raise LimitError("literal array is too large", position=start.pos)
        return tuple(values)

    def array_entry(self) -> Fraction:
        token = self.peek()
        entry = self.expression()
        if entry.kind != "num":
            raise ParseError(
                "literal arrays hold numbers only", position=token.pos, token=token.text
            )
        return entry.value

    def name_or_call(self) -> Syntax:
        token = self.next()
        name = token.text
        if self.at("("):
            if name == "d":
                return self.derivative(token)
            if name not in FUNCTIONS:
                if name in self.scope.shapes or name in self.scope.macro_map:
                    raise ParseError(
                        f"'{name}' is a variable, not a function; use '*' or '@' to multiply",
                        position=token.pos,
                        token=name,
                    )
                raise UnknownNameError(
                    f"unknown function '{name}'",
                    position=token.pos,
                    token=name,
                    hint=did_you_mean(name, FUNCTIONS),
                )
            return self.call(token)
        if name in self.scope.shapes or name in self.scope.macro_map:
            return self.node("name", token.pos, name)
        if name in FUNCTIONS:
            raise ParseError(
                f"function '{name}' must be called, as {name}(...)", position=token.pos, token=name
            )
        if name in self.scope.dims:
            return self.node("size", token.pos, Dim.of(name))
        if name == "d":
            raise UnknownNameError(
                "undeclared variable 'd' (a derivative is written d(f)/d(x))",
                position=token.pos, token="d",
                hint=f"declare it with a shape, e.g. {var_hint('d', self.usage_shape())}, "
                     "or write d(f)/d(x)",
            )
        declared = list(self.scope.shapes) + list(self.scope.macro_map)
        raise UnknownNameError(
            f"undeclared variable '{name}'",
            position=token.pos,
            token=name,
            hint=did_you_mean(name, declared + list(FUNCTIONS))
            or f"declare it with a shape, e.g. {var_hint(name, self.usage_shape())}",
        )

    #: functions of a square matrix: an undeclared name used as their argument is one
    _SQUARE_ARGUMENT = frozenset({"det", "inv", "logdet", "trace"})

    def usage_shape(self) -> str:
        """A shape that fits how the name just read is used, for the hint that
        declares it: ``n n`` inside det/inv/logdet/trace, ``m n`` beside ``@``,
        else ``n`` (a column vector)."""
        before = self.tokens[self.i - 2] if self.i >= 2 else None
        call = self.tokens[self.i - 3] if self.i >= 3 else None
        after = self.peek()
        if (before is not None and before.text == "(" and call is not None
                and call.text in self._SQUARE_ARGUMENT and after.text == ")"):
            return "n n"
        if after.text == "@" or (before is not None and before.text == "@"):
            return "m n"
        return "n"

    def call(self, token: Token) -> Syntax:
        spec = REGISTRY[token.text]
        opener = self.next()
        self.enter(opener.pos)
        self.open_parens.append(opener.pos)
        args: list[Syntax] = []
        dims: list[Dim] = []
        if not self.at(")"):
            while True:
                if spec.dims[1]:
                    dims.append(self.dimension(token.text))
                else:
                    args.append(self.expression())
                if not self.at(","):
                    break
                self.next()
        self.expect(")", f"to close '{token.text}(' at position {token.pos}")
        self.open_parens.pop()
        self.nesting -= 1
        low, high = (spec.dims if spec.dims[1] else (spec.arity, spec.arity))
        given = len(dims) if spec.dims[1] else len(args)
        if not low <= given <= high:
            wanted = str(low) if low == high else f"{low} or {high}"
            noun = "dimension" if spec.dims[1] else "argument"
            raise ParseError(
                f"{token.text}() takes {wanted} {noun}{'s' if high > 1 else ''}, {given} given",
                position=token.pos,
                token=token.text,
            )
        return self.node("call", token.pos, token.text, tuple(args), tuple(dims))

    def dimension(self, fn: str) -> Dim:
        """A dimension argument: a name, an integer, or a product such as n*k."""
        dim = self.dimension_factor(fn)
        while self.at("*"):
            star = self.next()
            dim = dim * self.dimension_factor(fn)
            if dim.size({name: 1 for name in dim.names}) > limits.MAX_DIM:
                raise LimitError(f"dimension {dim} in {fn}() is out of range "
                                 f"(1 to {limits.MAX_DIM:,})", position=star.pos, token="*")
        return dim

    def dimension_factor(self, fn: str) -> Dim:
        token = self.next()
        if token.kind == "number":
            value = literal_value(token)
            if value.denominator != 1 or not 1 <= value <= limits.MAX_DIM:
                raise LimitError(
                    f"dimension {token.text} in {fn}() is out of range (1 to {limits.MAX_DIM:,})",
                    position=token.pos,
                    token=token.text,
                )
            return Dim.of(int(value))
        if token.kind == "name":
            if token.text not in self.scope.dims:
                raise UnknownNameError(
                    f"unknown dimension '{token.text}' in {fn}()",
                    position=token.pos,
                    token=token.text,
                    hint=did_you_mean(token.text, self.scope.dims)
                    or "dimensions are the names used in the declared shapes",
                )
            return Dim.of(token.text)
        raise ParseError(
            f"{fn}() takes dimension names or integers, not '{token.text or 'nothing'}'",
            position=token.pos,
            token=token.text,
        )

    def derivative(self, token: Token) -> Syntax:
        opener = self.next()
        self.enter(opener.pos)
        self.open_parens.append(opener.pos)
        of = self.expression()
        self.expect(")", f"to close 'd(' at position {token.pos}")
        self.open_parens.pop()
        slash = self.peek()
        if not self.at("/"):
            raise ParseError(
                "expected '/d(variable)' after 'd(...)': a derivative is written d(f)/d(x)",
                position=slash.pos,
                token=slash.text,
            )
        self.next()
        d_token = self.next()
        if not (d_token.kind == "name" and d_token.text == "d" and self.at("(")):
            raise ParseError(
                "expected 'd(variable)' after '/': a derivative is written d(f)/d(x)",
                position=d_token.pos,
                token=d_token.text,
            )
        self.next()
        wrt = self.next()
        if wrt.kind != "name" or not self.at(")"):
            raise ParseError(
                "d(f)/d(x) differentiates with respect to one declared variable",
                position=wrt.pos,
                token=wrt.text,
            )
        if wrt.text not in self.scope.shapes:
            raise UnknownNameError(
                f"undeclared variable '{wrt.text}' in d(...)/d({wrt.text})",
                position=wrt.pos,
                token=wrt.text,
                hint=did_you_mean(wrt.text, self.scope.shapes)
                or f"declare it with a shape, e.g. {var_hint(wrt.text, 'n')}",
            )
        self.next()
        self.nesting -= 1
        return self.node("d", token.pos, wrt.text, (of,))

    # -- constant folding

    def binop(self, op: Token, left: Syntax, right: Syntax) -> Syntax:
        if op.text == "**" and right.kind == "num":
            exponent = right.value
            if abs(exponent) > limits.MAX_EXPONENT:
                raise LimitError(
                    f"exponent {_show(exponent)} is too large (limit {limits.MAX_EXPONENT})",
                    position=right.pos,
                    token=_show(exponent),
                )
        if op.text == "/" and right.kind == "num" and right.value == 0:
            raise ParseError("division by zero", position=op.pos, token="/")
        if left.kind == "num" and right.kind == "num":
            folded = _fold(op, left.value, right.value)
            if folded is not None:
                return self.node("num", left.pos, folded)
        return self.node("binop", op.pos, op.text, (left, right))


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


def _fold(op: Token, a: Fraction, b: Fraction) -> Fraction | None:
    if op.text == "+":
        value = a + b
    elif op.text == "-":
        value = a - b
    elif op.text == "*":
        value = a * b
    elif op.text == "/":
        value = a / b
    elif op.text == "**":
        if b.denominator != 1:
            return None  # irrational in general: leave it to the engines
        if a == 0 and b < 0:
            raise ParseError("zero raised to a negative power", position=op.pos, token="**")
        value = a ** int(b)
    else:
        return None  # '@' of two scalars is left to the shape checker
    return checked_constant(value, op.pos, f"{_show(a)} {op.text} {_show(b)}")


# ---------------------------------------------------------------------------
# Pass 2: Syntax -> typed expression


def build(node: Syntax, scope: Scope) -> E.Expr:
    kind = node.kind
    if kind == "num":
        return E.Const(node.value, node.pos)
    if kind == "array":
        return E.Array(node.value, node.pos)
    if kind == "size":
        return E.Size(node.value, node.pos)
    if kind == "name":
        if node.value in scope.macro_map:
            return scope.macro_map[node.value]
        return E.Var(node.value, scope.shapes[node.value], node.pos)
    args = tuple(build(a, scope) for a in node.args)
    if kind == "call":
        return E.apply(node.value, *args, dims=node.dims, pos=node.pos)
    if kind == "binop":
        return E.apply(INFIX[node.value], *args, pos=node.pos)
    if kind == "neg":
        return E.apply("neg", *args, pos=node.pos)
    if kind == "T":
        return E.apply("transpose", *args, pos=node.pos)
    if kind == "d":
        wrt = E.Var(node.value, scope.shapes[node.value], node.pos)
        return E.derivative(args[0], wrt, scope.layout, pos=node.pos)
    raise AssertionError(f"unknown syntax node {kind!r}")


@functools.lru_cache(maxsize=512)
def parse_syntax(text: str, scope: Scope) -> Syntax:
    parser = _Parser(text, scope)
    try:
        tree = parser.expression()
        parser.finish()
    except ParseError:
        _unbalanced(text)
        raise
    return tree


@functools.lru_cache(maxsize=512)
def parse_identity_syntax(text: str, scope: Scope) -> tuple[Syntax, Syntax]:
    try:
        return _Parser(text, scope).identity()
    except ParseError:
        _unbalanced(text)
        raise


def _unbalanced(text: str) -> None:
    """After a parse error, the parenthesis at fault where they do not balance:
    the error the parser met (an '=' where a ')' was due) is its consequence."""
    opened: list[int] = []
    for pos, char in enumerate(text):
        if char == "(":
            opened.append(pos)
        elif char == ")":
            if not opened:
                raise ParseError("unbalanced parentheses: this ')' has no matching '('",
                                 position=pos, token=")")
            opened.pop()
    if opened:
        raise ParseError("unbalanced parentheses: this '(' is never closed",
                         position=opened[-1], token="(")


def parse_expression(text: str, scope: Scope) -> E.Expr:
    """An expression; raises ParseError/UnknownNameError/LimitError/ShapeError."""
    _require_text(text)
    return build(parse_syntax(text, scope), scope)


def parse_identity(text: str, scope: Scope) -> tuple[Syntax, Syntax]:
    """The two sides of ``lhs = rhs`` as syntax trees (shapes not yet checked).

    Build each side with :func:`build`; that is where shape errors appear.
    """
    _require_text(text)
    return parse_identity_syntax(text, scope)


def _require_text(text: Any) -> None:
    if not isinstance(text, str):
        raise ParseError(f"expected a string, got {type(text).__name__}")
