"""App-wide limits of a diffusion picture, shared by the pipeline, the recipe checks, the dock and the CLI.

One place, so a size or a step count the dock accepts is never refused by ``genart generate`` (or the other way).
"""

MAX_STEPS = 1000  # a sampler visits distinct training timesteps; schedules have at most this many
MAX_GUIDANCE = 50.0
MAX_SIDE = 4096  # pixels per side of a generated image
