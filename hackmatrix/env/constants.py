"""Static game constants and the enemy and program tables (rules §0, §2, §5, §8, §10 in
docs/rules.md)."""

from typing import NamedTuple

from hackmatrix.env.obs_layout import Group, ObsLayout, single

GRID = 6
NUM_CELLS = GRID * GRID
NUM_DIRECTIONS = 4
SIPHON_ACTION = 4
PROGRAM_ACTION_OFFSET = 5
NUM_STAGES = 8
MAX_HP = 3

# [D5] fixed capacities; on overflow a new entity is dropped.
MAX_ENEMIES = 36
MAX_TRANSMISSIONS = 36
# [D8] static bound on queued siphon spawns processed in one enemy turn; the excess is dropped.
MAX_PENDING_SPAWNS = 256
# Stage generation: attempts, block count range (inclusive), rejection tries per spawn phase.
GEN_ATTEMPTS = 100
MIN_BLOCKS = 5
MAX_BLOCKS = 11
SPAWN_TRIES = 100

# Row 0 is the bottom row; "up" increases the row. Canonical neighbour order U, D, L, R.
DIR_OFFSETS = ((1, 0), (-1, 0), (0, -1), (0, 1))
DIRECTION_NAMES = ("UP", "DOWN", "LEFT", "RIGHT")
UP, DOWN, LEFT, RIGHT = range(NUM_DIRECTIONS)  # the direction actions, in DIR_OFFSETS order
# 8-neighbourhood order: row offset -1, 0, +1 (outer) x col offset -1, 0, +1 (inner).
NEIGHBOURS8 = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0))
CORNERS = ((0, 0), (0, 5), (5, 0), (5, 5))

# Cell content.
EMPTY, BLOCK, PICKUP, EXIT = 0, 1, 2, 3
# Block kind (meaningful only where content == BLOCK).
KIND_NONE, KIND_DATA, KIND_PROGRAM, KIND_QUESTION = 0, 1, 2, 3
KIND_NAMES = ("none", "data", "program", "question")


# Enemies (rules §2.2): one row per type, in type order; everything per type derives from it.
class EnemySpec(NamedTuple):
    """One enemy type: its scenario name, hp when it hatches, moves per enemy turn."""

    name: str
    max_hp: int
    steps: int


ENEMIES = (
    EnemySpec("virus", max_hp=2, steps=2),
    EnemySpec("daemon", max_hp=3, steps=1),
    EnemySpec("glitch", max_hp=2, steps=1),
    EnemySpec("cryptog", max_hp=2, steps=1),
)
NUM_ENEMY_TYPES = len(ENEMIES)
ENEMY_NAMES = tuple(e.name for e in ENEMIES)
ENEMY_MAX_HP = tuple(e.max_hp for e in ENEMIES)
ENEMY_STEPS = tuple(e.steps for e in ENEMIES)
VIRUS, DAEMON, GLITCH, CRYPTOG = (
    ENEMY_NAMES.index(n) for n in ("virus", "daemon", "glitch", "cryptog"))


# Programs (rules §5.1): one row per program; program i is action PROGRAM_ACTION_OFFSET + i.
# Each engine binds its applicability and effect to these rows by name (env/programs.py,
# reference/programs.py) and refuses to load when a row has none.
class ProgramSpec(NamedTuple):
    """One program: its name, cost in credits and energy, and the spawn value of its block."""

    name: str
    credits: int
    energy: int
    spawn: int


PROGRAMS = (
    ProgramSpec("PUSH", credits=0, energy=2, spawn=4),
    ProgramSpec("PULL", credits=0, energy=2, spawn=4),
    ProgramSpec("CRASH", credits=3, energy=2, spawn=6),
    ProgramSpec("WARP", credits=2, energy=2, spawn=5),
    ProgramSpec("POLY", credits=1, energy=1, spawn=3),
    ProgramSpec("WAIT", credits=0, energy=1, spawn=1),
    ProgramSpec("DEBUG", credits=3, energy=0, spawn=4),
    ProgramSpec("ROW", credits=3, energy=1, spawn=2),
    ProgramSpec("COL", credits=3, energy=1, spawn=2),
    ProgramSpec("UNDO", credits=1, energy=0, spawn=3),
    ProgramSpec("STEP", credits=0, energy=3, spawn=4),
    ProgramSpec("SIPH+", credits=5, energy=0, spawn=7),
    ProgramSpec("EXCH", credits=4, energy=0, spawn=3),
    ProgramSpec("SHOW", credits=2, energy=0, spawn=2),
    ProgramSpec("RESET", credits=0, energy=4, spawn=2),
    ProgramSpec("CALM", credits=2, energy=4, spawn=6),
    ProgramSpec("D_BOM", credits=3, energy=0, spawn=4),
    ProgramSpec("DELAY", credits=1, energy=2, spawn=4),
    ProgramSpec("ANTI-V", credits=3, energy=0, spawn=4),
    ProgramSpec("SCORE", credits=0, energy=5, spawn=5),
    ProgramSpec("REDUC", credits=2, energy=1, spawn=3),
    ProgramSpec("ATK+", credits=4, energy=4, spawn=8),
    ProgramSpec("HACK", credits=2, energy=2, spawn=4),
)
NUM_PROGRAMS = len(PROGRAMS)
NUM_ACTIONS = PROGRAM_ACTION_OFFSET + NUM_PROGRAMS  # 28
PROGRAM_NAMES = tuple(p.name for p in PROGRAMS)
PROGRAM_CREDITS = tuple(p.credits for p in PROGRAMS)
PROGRAM_ENERGY = tuple(p.energy for p in PROGRAMS)
PROGRAM_SPAWN = tuple(p.spawn for p in PROGRAMS)
(PUSH, PULL, CRASH, WARP, POLY, WAIT, DEBUG, ROW, COL, UNDO, STEP, SIPH_PLUS, EXCH, SHOW,
 RESET, CALM, D_BOM, DELAY, ANTI_V, SCORE, REDUC, ATK_PLUS, HACK) = (PROGRAM_NAMES.index(n) for n in (
    "PUSH", "PULL", "CRASH", "WARP", "POLY", "WAIT", "DEBUG", "ROW", "COL", "UNDO", "STEP",
    "SIPH+", "EXCH", "SHOW", "RESET", "CALM", "D_BOM", "DELAY", "ANTI-V", "SCORE", "REDUC",
    "ATK+", "HACK"))
WAIT_ACTION = PROGRAM_ACTION_OFFSET + WAIT  # 10
WARP_ACTION = PROGRAM_ACTION_OFFSET + WARP  # 8
RESET_ACTION = PROGRAM_ACTION_OFFSET + RESET  # 19


def in_program_order(rules: dict) -> tuple:
    """Return the values of {program name: rule} in program order; refuse a missing or extra name."""
    missing = [n for n in PROGRAM_NAMES if n not in rules]
    extra = [n for n in rules if n not in PROGRAM_NAMES]
    if missing or extra:
        raise ValueError(f"program rules do not match constants.PROGRAMS: missing {missing}, "
                         f"unknown {extra}; give every program in PROGRAMS exactly one rule")
    return tuple(rules[n] for n in PROGRAM_NAMES)


# Readable name of every action index, directions first.
ACTION_NAMES = DIRECTION_NAMES + ("SIPHON",) + PROGRAM_NAMES

# Starting bonus choices (rules §2.5): credits 10, energy 11, data siphons 1.
BONUS_CREDITS, BONUS_ENERGY, BONUS_SIPHONS = 10, 11, 1
NUM_BONUSES = 3
INITIAL_SCHED_INTERVAL = 12

# Rewards (rules §8).
STAGE_REWARDS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0)
REWARD_KEYS = (
    "step_penalty", "stage_completion", "score_gain", "kills", "data_siphon", "distance_shaping",
    "victory", "death_penalty", "resource_gain", "resource_holding", "damage_penalty",
    "hp_recovery", "siphon_quality", "siphon_death_penalty", "program_waste",
)
# The total is summed left to right in Swift's order (rules §8), in float32, in both engines.
REWARD_SUM_ORDER = (
    "step_penalty", "stage_completion", "score_gain", "kills", "data_siphon", "distance_shaping",
    "victory", "death_penalty", "resource_gain", "resource_holding", "damage_penalty",
    "hp_recovery", "siphon_quality", "program_waste", "siphon_death_penalty",
)

# Observation (rules §9): player ++ owned programs ++ a [6, 6, channels] grid, every size derived
# from the tables above. Channels describe the first (visible) enemy on a cell, then the cell.
OBS_LAYOUT = ObsLayout(
    vector=(
        Group("player", ("row", "col", "hp", "credits", "energy", "stage", "data_siphons",
                         "attack", "show", "calm")),
        Group("programs", PROGRAM_NAMES),
    ),
    grid_shape=(GRID, GRID),
    channels=(
        Group("enemy_type", ENEMY_NAMES),
        single("enemy_hp"),
        single("enemy_stunned"),
        single("enemy_from_siphon"),
        Group("block_kind", KIND_NAMES[KIND_DATA:]),
        single("block_points"),
        single("block_siphoned"),
        Group("block_program", PROGRAM_NAMES),
        single("block_spawn"),
        single("transmission_timer"),
        single("credits"),
        single("energy"),
        single("pickup"),
        single("exit"),
        single("siphon_center"),
    ),
    position=("player", "row", "col"),
)
OBS_PLAYER = OBS_LAYOUT.vector[0].size  # 10
OBS_PROGRAMS = OBS_LAYOUT.vector[1].size  # 23
GRID_CHANNELS = OBS_LAYOUT.grid_channels  # 42
OBS_SIZE = OBS_LAYOUT.size  # 1545
# Version of the observation layout above: exported policies record it and refuse to load under
# another, since a network trained on one layout reads garbage from another. Bump on any change.
OBS_LAYOUT_VERSION = 1

