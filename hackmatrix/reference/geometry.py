"""Board geometry: bounds, neighbourhoods, distances and breadth-first searches (rules §0, §7)."""

from collections import deque

from hackmatrix.env.constants import DIR_OFFSETS, GRID, NEIGHBOURS8


def in_bounds(pos) -> bool:
    """True if (row, col) lies on the 6x6 board."""
    return 0 <= pos[0] < GRID and 0 <= pos[1] < GRID


def add(pos, offset) -> tuple:
    """Return pos + offset."""
    return (pos[0] + offset[0], pos[1] + offset[1])


def _table(offsets) -> dict:
    cells = [(r, c) for r in range(GRID) for c in range(GRID)]
    return {p: tuple(n for n in (add(p, d) for d in offsets) if in_bounds(n)) for p in cells}


_ORTHOGONAL = _table(DIR_OFFSETS)
_EIGHT = _table(NEIGHBOURS8)


def orthogonal(pos) -> tuple:
    """In-bounds orthogonal neighbours of `pos` in canonical U, D, L, R order."""
    return _ORTHOGONAL[pos]


def eight_neighbours(pos) -> tuple:
    """In-bounds 8-neighbours of `pos` in the canonical 8-neighbourhood order."""
    return _EIGHT[pos]


def cross(pos) -> list:
    """The in-bounds siphon cross: `pos` itself, then its U, D, L, R neighbours."""
    return (pos,) + _ORTHOGONAL[pos]


def manhattan(a, b) -> int:
    """Manhattan distance between two cells."""
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


_ALL_CELLS = tuple((r, c) for r in range(GRID) for c in range(GRID))


def all_cells() -> tuple:
    """Every cell in row-major order."""
    return _ALL_CELLS


def bfs_distances(source, passable) -> dict:
    """Distances from `source` over cells where passable(cell) holds; the source is always expanded."""
    dist = {source: 0}
    queue = deque([source])
    while queue:
        cur = queue.popleft()
        for n in orthogonal(cur):
            if n not in dist and passable(n):
                dist[n] = dist[cur] + 1
                queue.append(n)
    return dist


def exit_distance(state) -> int:
    """ExitDist of rules §7.4: BFS player -> exit through non-block cells; 0 when unreachable."""
    target = state.exit
    start = state.player.cell
    dist = bfs_distances(start, lambda c: c == target or not state.cell(c).is_block)
    return dist.get(target, 0)
