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
#: numerator and denominator of any constant's exact value (after folding): a
#: bound on the digits the exact stage carries for it, not on its magnitude in
#: float64 (small or precise constants such as 1e-16, 1e-30 and 2.0000001e-10 are
#: ordinary inputs, and every fraction matcalc prints, 1/300000000000000000000,
#: reads back)
MAX_CONSTANT = 10**60
#: absolute value of a constant exponent in '**'
MAX_EXPONENT = 64
#: any one dimension (declared, pinned or written in eye/ones/zeros)
MAX_DIM = 100_000
#: the symbolic stage instantiates dimensions no larger than this ...
MAX_SYMBOLIC_DIM = 7
#: ... and differentiates at most this many (output entry, input entry) pairs
MAX_SYMBOLIC_PAIRS = 4096
#: Beyond MAX_SYMBOLIC_DIM, a size the user pins is still decided exactly, by
#: evaluation at random points (modulo a random 62-bit prime, then fractions), up to
#: MAX_EXACT_PINNED when the identity is cheap at any size there (no det, inv or
#: logdet; derivatives forward-mode in every direction) ...
MAX_EXACT_PINNED = 50
#: ... and up to MAX_EXACT_PINNED_LINALG for any identity whose evaluation at a point
#: costs O(n^3) (matcalc.linalg): det, inv and matrix products by elimination and
#: products on integers modulo the prime, a derivative that is a whole side of the
#: claim along one random direction (the Jacobian contracted with a random vector:
#: zero for a random vector only if it is zero, Schwartz-Zippel again) and any
#: other derivative only with respect to a variable of at most MAX_EXACT_DIRECTIONS
#: entries (forward mode costs one more evaluation per entry); each side has at
#: most MAX_EXACT_ENTRIES entries. The bound is the cost: in pure Python a det or
#: inv claim takes about 0.5 to 1.5 s at n = 100 and 2 to 3 s at n = 150 (a
#: Gauss-Jordan step is 2 n^2 big-integer operations), against SYMBOLIC_TIME_BUDGET
MAX_EXACT_PINNED_LINALG = 150
MAX_EXACT_DIRECTIONS = 64
MAX_EXACT_ENTRIES = 40_000
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
