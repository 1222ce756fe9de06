"""Resource bounds, in one place (docs/design.md §4: nothing hangs).

Input beyond these bounds is refused with a :class:`~matcalc.errors.LimitError`
before any work is done; the symbolic stage additionally runs under a time
budget and says so when it gives up.
"""

#: characters in one identity or expression
MAX_TEXT_LENGTH = 4000
#: nested parentheses, calls and unary operators
MAX_NESTING = 60
#: height of the expression tree (long flat sums count too)
MAX_HEIGHT = 200
#: nodes in the expression tree
MAX_NODES = 1000
#: characters in one numeric literal, and its decimal exponent
MAX_LITERAL_LENGTH = 40
MAX_LITERAL_EXPONENT = 30
#: numerator and denominator of any constant (after folding)
MAX_CONSTANT = 10**15
#: absolute value of a constant exponent in '**'
MAX_EXPONENT = 64
#: any one dimension (declared, pinned or written in eye/ones/zeros)
MAX_DIM = 100_000
#: the symbolic stage instantiates dimensions no larger than this ...
MAX_SYMBOLIC_DIM = 7
#: ... and differentiates at most this many (output entry, input entry) pairs
MAX_SYMBOLIC_PAIRS = 4096
#: entries of any one array the numeric stage builds: a variable, a value, a claim
#: and a Jacobian alike (25,000,000 float64 entries are 200 MB), so that a claim
#: is never refused at a size where its Jacobian could still be formed, e.g.
#: -kron(inv(X).T, inv(X)) up to n = 70; the backward passes that form a
#: Jacobian are chunked to hold about this many entries per array
MAX_NUMERIC_NUMEL = 25_000_000
#: default wall-clock budget of the symbolic stage, in seconds
SYMBOLIC_TIME_BUDGET = 10.0
#: wall-clock budget of the numeric stage, in seconds
NUMERIC_TIME_BUDGET = 120.0
