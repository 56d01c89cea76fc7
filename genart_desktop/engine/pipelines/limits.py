"""App-wide limits shared by the pipelines, the recipe checks, the docks and the CLI.

One place, so a size or a step count the dock accepts is never refused by ``genart generate`` (or the other way),
and the front ends read the limits without importing the pipelines that do the work.
"""

MAX_STEPS = 1000  # a sampler visits distinct training timesteps; schedules have at most this many
MAX_GUIDANCE = 50.0
MAX_SIDE = 4096  # pixels per side of a generated image
MAX_SEED = 2**63 - 1  # seeds are stored in recipes and PNG text as signed 64-bit integers

MIN_SCALE = 0.25  # style brush scale: the picture is stylised at this fraction of its size, then restored
MAX_SCALE = 8.0
