"""The environment state: immutable flax structs of fixed-shape int32/bool arrays.

Entities (enemies, transmissions) live in fixed-capacity arrays kept compacted in list order:
slot index == list position, `count` valid slots, and every slot at or beyond `count` holds the
canonical empty value (all fields 0 / False), so two equal game states are equal arrays.
Grid arrays are indexed [row, col] with row 0 the bottom row.
"""

import jax.numpy as jnp
from flax import struct

from hackmatrix.env.constants import (
    EXIT,
    GRID,
    INITIAL_SCHED_INTERVAL,
    MAX_ENEMIES,
    MAX_TRANSMISSIONS,
    NUM_PROGRAMS,
)

I32 = jnp.int32


@struct.dataclass
class Grid:
    """The 36 cells (rules §1.1), one [6, 6] array per field."""

    content: jnp.ndarray  # int32: EMPTY, BLOCK, PICKUP, EXIT
    block_kind: jnp.ndarray  # int32: KIND_NONE, KIND_DATA, KIND_PROGRAM, KIND_QUESTION
    block_points: jnp.ndarray  # int32: points of DATA and QUESTION-data blocks, else 0
    block_program: jnp.ndarray  # int32: program of PROGRAM and QUESTION-program blocks, else -1
    block_spawn: jnp.ndarray  # int32: the block's spawn count, else 0
    credits: jnp.ndarray  # int32: CREDITS resource amount 0..3
    energy: jnp.ndarray  # int32: ENERGY resource amount 0..3 (never both on one cell)
    siphoned: jnp.ndarray  # bool
    siphon_center: jnp.ndarray  # bool


@struct.dataclass
class Enemies:
    """Enemy list (rules §2.2), compacted in list order."""

    count: jnp.ndarray  # int32 scalar
    type: jnp.ndarray  # int32[MAX_ENEMIES]: VIRUS, DAEMON, GLITCH, CRYPTOG
    row: jnp.ndarray
    col: jnp.ndarray
    hp: jnp.ndarray
    disabled: jnp.ndarray  # int32 >= 0
    stunned: jnp.ndarray  # bool
    from_scheduled: jnp.ndarray  # bool
    from_siphon: jnp.ndarray  # bool


@struct.dataclass
class Transmissions:
    """Transmission list (rules §2.3), compacted in list order."""

    count: jnp.ndarray  # int32 scalar
    row: jnp.ndarray  # int32[MAX_TRANSMISSIONS]
    col: jnp.ndarray
    timer: jnp.ndarray  # int32 >= 1
    enemy_type: jnp.ndarray
    from_scheduled: jnp.ndarray  # bool
    from_siphon: jnp.ndarray  # bool


@struct.dataclass
class Player:
    """Player fields (rules §2.1); all scalars int32 except `owned`."""

    row: jnp.ndarray
    col: jnp.ndarray
    hp: jnp.ndarray
    credits: jnp.ndarray
    energy: jnp.ndarray
    data_siphons: jnp.ndarray
    score: jnp.ndarray
    attack: jnp.ndarray
    owned: jnp.ndarray  # bool[NUM_PROGRAMS]


@struct.dataclass
class Snapshot:
    """One UNDO snapshot (rules §5.2); `valid` is False when the history is empty."""

    valid: jnp.ndarray  # bool
    player: Player
    turn: jnp.ndarray
    enemies: Enemies
    transmissions: Transmissions
    grid: Grid
    show: jnp.ndarray
    calm: jnp.ndarray
    atk_uses: jnp.ndarray


@struct.dataclass
class EnvState:
    """The whole game state (rules §2.4)."""

    player: Player
    enemies: Enemies
    transmissions: Transmissions
    grid: Grid
    stage: jnp.ndarray  # int32 1..8
    turn: jnp.ndarray  # enemy turns in this stage
    exit_row: jnp.ndarray
    exit_col: jnp.ndarray
    show: jnp.ndarray  # bool
    calm: jnp.ndarray  # bool
    step_pending: jnp.ndarray  # bool
    atk_uses: jnp.ndarray  # int32 0..2
    sched_interval: jnp.ndarray
    sched_next: jnp.ndarray
    pending_spawns: jnp.ndarray
    won: jnp.ndarray  # bool
    done: jnp.ndarray  # bool
    undo: Snapshot  # [D4] the history holds one snapshot


def empty_grid() -> Grid:
    """Return 36 fresh cells: EMPTY, no block, no resource, not siphoned."""
    zeros = jnp.zeros((GRID, GRID), I32)
    false = jnp.zeros((GRID, GRID), bool)
    return Grid(
        content=zeros, block_kind=zeros, block_points=zeros,
        block_program=jnp.full((GRID, GRID), -1, I32), block_spawn=zeros,
        credits=zeros, energy=zeros, siphoned=false, siphon_center=false,
    )


def empty_enemies() -> Enemies:
    """Return an empty enemy list."""
    z = jnp.zeros((MAX_ENEMIES,), I32)
    f = jnp.zeros((MAX_ENEMIES,), bool)
    return Enemies(count=I32(0), type=z, row=z, col=z, hp=z, disabled=z,
                   stunned=f, from_scheduled=f, from_siphon=f)


def empty_transmissions() -> Transmissions:
    """Return an empty transmission list."""
    z = jnp.zeros((MAX_TRANSMISSIONS,), I32)
    f = jnp.zeros((MAX_TRANSMISSIONS,), bool)
    return Transmissions(count=I32(0), row=z, col=z, timer=z, enemy_type=z,
                         from_scheduled=f, from_siphon=f)


def initial_player(row=0, col=0) -> Player:
    """Return a player with the starting stats of rules §2.1 (before the bonus)."""
    return Player(
        row=I32(row), col=I32(col), hp=I32(3), credits=I32(0), energy=I32(0),
        data_siphons=I32(0), score=I32(0), attack=I32(1),
        owned=jnp.zeros((NUM_PROGRAMS,), bool),
    )


def empty_snapshot() -> Snapshot:
    """Return the canonical empty history entry (valid=False, every field zeroed)."""
    return Snapshot(
        valid=jnp.bool_(False), player=initial_player().replace(hp=I32(0), attack=I32(0)),
        turn=I32(0), enemies=empty_enemies(), transmissions=empty_transmissions(),
        grid=empty_grid(), show=jnp.bool_(False), calm=jnp.bool_(False), atk_uses=I32(0),
    )


def blank_state() -> EnvState:
    """Return a stage-1 state with an empty board, the player at (0,0) and the exit at (5,5).

    Not a game start (no generation, no bonus): the base that scenarios and tests build on.
    """
    grid = empty_grid()
    grid = grid.replace(content=grid.content.at[5, 5].set(EXIT))
    return EnvState(
        player=initial_player(), enemies=empty_enemies(), transmissions=empty_transmissions(),
        grid=grid, stage=I32(1), turn=I32(0), exit_row=I32(5), exit_col=I32(5),
        show=jnp.bool_(False), calm=jnp.bool_(False), step_pending=jnp.bool_(False),
        atk_uses=I32(0), sched_interval=I32(INITIAL_SCHED_INTERVAL),
        sched_next=I32(INITIAL_SCHED_INTERVAL), pending_spawns=I32(0),
        won=jnp.bool_(False), done=jnp.bool_(False), undo=empty_snapshot(),
    )
