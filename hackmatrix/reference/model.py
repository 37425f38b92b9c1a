"""Plain-Python game state of the reference engine: cells, enemies, transmissions, player.

The reference engine is an oracle written for readability: the state is a tree of small mutable
dataclasses and every rule function updates it in place. `Game` (game.py) owns one state.
"""

import copy
from dataclasses import dataclass, field

from hackmatrix.env.constants import (
    BLOCK,
    CORNERS,
    EMPTY,
    EXIT,
    GRID,
    INITIAL_SCHED_INTERVAL,
    KIND_DATA,
    KIND_NONE,
    KIND_PROGRAM,
    KIND_QUESTION,
    MAX_HP,
    NUM_PROGRAMS,
    PICKUP,
)


@dataclass
class Cell:
    """One board cell (rules §1.1); block fields are meaningful only when content is BLOCK."""

    content: int = EMPTY
    kind: int = KIND_NONE
    points: int = 0  # DATA and QUESTION-data payloads
    program: int = -1  # PROGRAM and QUESTION-program payloads
    spawn: int = 0
    credits: int = 0
    energy: int = 0
    siphoned: bool = False
    siphon_center: bool = False

    @property
    def is_block(self) -> bool:
        """True for any BLOCK cell, siphoned or not."""
        return self.content == BLOCK

    def clear_block(self) -> None:
        """Turn a block into an EMPTY cell, keeping its resource and `siphoned` flag (CRASH)."""
        self.content = EMPTY
        self.kind, self.points, self.program, self.spawn = KIND_NONE, 0, -1, 0

    def has_data_payload(self) -> bool:
        """True for a DATA block or a QUESTION block hiding data."""
        return self.is_block and (
            self.kind == KIND_DATA or (self.kind == KIND_QUESTION and self.program < 0)
        )

    def has_program_payload(self) -> bool:
        """True for a PROGRAM block or a QUESTION block hiding a program."""
        return self.is_block and (
            self.kind == KIND_PROGRAM or (self.kind == KIND_QUESTION and self.program >= 0)
        )


@dataclass
class Enemy:
    """One enemy (rules §2.2)."""

    type: int
    row: int
    col: int
    hp: int
    disabled: int = 0
    stunned: bool = False
    from_scheduled: bool = False
    from_siphon: bool = False


@dataclass
class Transmission:
    """One pending enemy spawn (rules §2.3)."""

    row: int
    col: int
    timer: int
    enemy_type: int
    from_scheduled: bool = False
    from_siphon: bool = False


@dataclass
class Player:
    """The player (rules §2.1)."""

    row: int = 0
    col: int = 0
    hp: int = MAX_HP
    credits: int = 0
    energy: int = 0
    data_siphons: int = 0
    score: int = 0
    attack: int = 1
    owned: list = field(default_factory=lambda: [False] * NUM_PROGRAMS)

    @property
    def cell(self) -> tuple:
        """The player's (row, col)."""
        return (self.row, self.col)


@dataclass
class Snapshot:
    """One UNDO snapshot (rules §5.2): everything UNDO restores."""

    player: Player
    turn: int
    enemies: list
    transmissions: list
    grid: list
    show: bool
    calm: bool
    atk_uses: int


def fresh_grid() -> list:
    """Return 36 fresh cells as grid[row][col] (row 0 is the bottom row)."""
    return [[Cell() for _ in range(GRID)] for _ in range(GRID)]


@dataclass
class State:
    """The whole game state (rules §2.4); `history` holds at most one snapshot [D4]."""

    player: Player = field(default_factory=Player)
    enemies: list = field(default_factory=list)
    transmissions: list = field(default_factory=list)
    grid: list = field(default_factory=fresh_grid)
    stage: int = 1
    turn: int = 0
    exit: tuple = (5, 5)
    show: bool = False
    calm: bool = False
    step_pending: bool = False
    atk_uses: int = 0
    sched_interval: int = INITIAL_SCHED_INTERVAL
    sched_next: int = INITIAL_SCHED_INTERVAL
    pending_spawns: int = 0
    won: bool = False
    done: bool = False
    history: list = field(default_factory=list)

    def cell(self, pos) -> Cell:
        """Return the cell at (row, col)."""
        return self.grid[pos[0]][pos[1]]

    def enemies_at(self, pos) -> list:
        """Enemies standing on `pos`, in list order."""
        return [e for e in self.enemies if (e.row, e.col) == pos]

    def transmissions_at(self, pos) -> list:
        """Transmissions on `pos`, in list order."""
        return [t for t in self.transmissions if (t.row, t.col) == pos]

    def snapshot(self) -> Snapshot:
        """Return a copy of everything UNDO restores."""
        return Snapshot(
            player=copy_player(self.player), turn=self.turn,
            enemies=[copy.copy(e) for e in self.enemies],
            transmissions=[copy.copy(t) for t in self.transmissions],
            grid=copy_grid(self.grid), show=self.show, calm=self.calm, atk_uses=self.atk_uses,
        )

    def restore(self, snap: Snapshot) -> None:
        """Restore a snapshot; stage, exit, step_pending and scheduling are not part of it."""
        self.player = copy_player(snap.player)
        self.turn = snap.turn
        self.enemies = [copy.copy(e) for e in snap.enemies]
        self.transmissions = [copy.copy(t) for t in snap.transmissions]
        self.grid = copy_grid(snap.grid)
        self.show, self.calm, self.atk_uses = snap.show, snap.calm, snap.atk_uses


def copy_player(player: Player) -> Player:
    """Return an independent copy of the player (its `owned` list included)."""
    clone = copy.copy(player)
    clone.owned = list(player.owned)
    return clone


def copy_grid(grid: list) -> list:
    """Return an independent copy of the 36 cells (every cell field is immutable)."""
    return [[copy.copy(cell) for cell in row] for row in grid]


def blank_state() -> State:
    """Return the scenario base state: stage 1, empty board, player (0,0), exit (5,5)."""
    state = State()
    state.cell((5, 5)).content = EXIT
    return state


def corner_layout(grid: list, player_cell: tuple, exit_cell: tuple) -> None:
    """Put the EXIT on `exit_cell` and PICKUPs on the two corners that are neither it nor the player."""
    for corner in CORNERS:
        if corner == exit_cell:
            grid[corner[0]][corner[1]].content = EXIT
        elif corner != player_cell:
            grid[corner[0]][corner[1]].content = PICKUP
