"""Static game constants (rules §0, §2, §5, §8, §9, §10 in docs/rules.md)."""

GRID = 6
NUM_CELLS = GRID * GRID
NUM_PROGRAMS = 23
NUM_DIRECTIONS = 4
SIPHON_ACTION = 4
PROGRAM_ACTION_OFFSET = 5
NUM_ACTIONS = PROGRAM_ACTION_OFFSET + NUM_PROGRAMS  # 28
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
# 8-neighbourhood order: row offset -1, 0, +1 (outer) x col offset -1, 0, +1 (inner).
NEIGHBOURS8 = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0))
CORNERS = ((0, 0), (0, 5), (5, 0), (5, 5))

# Cell content.
EMPTY, BLOCK, PICKUP, EXIT = 0, 1, 2, 3
# Block kind (meaningful only where content == BLOCK).
KIND_NONE, KIND_DATA, KIND_PROGRAM, KIND_QUESTION = 0, 1, 2, 3
KIND_NAMES = ("none", "data", "program", "question")

# Enemies.
VIRUS, DAEMON, GLITCH, CRYPTOG = 0, 1, 2, 3
ENEMY_NAMES = ("virus", "daemon", "glitch", "cryptog")
ENEMY_MAX_HP = (2, 3, 2, 2)
ENEMY_STEPS = (2, 1, 1, 1)

# Programs (index i <-> action 5 + i), rules §5.1.
PROGRAM_NAMES = (
    "PUSH", "PULL", "CRASH", "WARP", "POLY", "WAIT", "DEBUG", "ROW", "COL", "UNDO", "STEP",
    "SIPH+", "EXCH", "SHOW", "RESET", "CALM", "D_BOM", "DELAY", "ANTI-V", "SCORE", "REDUC",
    "ATK+", "HACK",
)
(PUSH, PULL, CRASH, WARP, POLY, WAIT, DEBUG, ROW, COL, UNDO, STEP, SIPH_PLUS, EXCH, SHOW,
 RESET, CALM, D_BOM, DELAY, ANTI_V, SCORE, REDUC, ATK_PLUS, HACK) = range(NUM_PROGRAMS)
PROGRAM_CREDITS = (0, 0, 3, 2, 1, 0, 3, 3, 3, 1, 0, 5, 4, 2, 0, 2, 3, 1, 3, 0, 2, 4, 2)
PROGRAM_ENERGY = (2, 2, 2, 2, 1, 1, 0, 1, 1, 0, 3, 0, 0, 0, 4, 4, 0, 2, 0, 5, 1, 4, 2)
PROGRAM_SPAWN = (4, 4, 6, 5, 3, 1, 4, 2, 2, 3, 4, 7, 3, 2, 2, 6, 4, 4, 4, 5, 3, 8, 4)
WAIT_ACTION = PROGRAM_ACTION_OFFSET + WAIT  # 10
WARP_ACTION = PROGRAM_ACTION_OFFSET + WARP  # 8
RESET_ACTION = PROGRAM_ACTION_OFFSET + RESET  # 19

# Starting bonus choices (rules §2.5): credits 10, energy 11, data siphons 1.
BONUS_CREDITS, BONUS_ENERGY, BONUS_SIPHONS = 10, 11, 1
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

# Observation (rules §9).
OBS_PLAYER = 10
OBS_PROGRAMS = NUM_PROGRAMS
GRID_CHANNELS = 42
OBS_SIZE = OBS_PLAYER + OBS_PROGRAMS + NUM_CELLS * GRID_CHANNELS  # 1545
# Version of the observation layout above: exported policies record it and refuse to load under
# another, since a network trained on one layout reads garbage from another. Bump on any change.
OBS_LAYOUT_VERSION = 1

# Distances: the value a BFS gives an unreachable cell.
UNREACHABLE = 99
