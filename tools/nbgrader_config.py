"""nbgrader configuration for a class taught from this course (`make assignment` copies it into the course folder).

Edit your copy in the course folder (the course id, the LMS file-name pattern); `make assignment` never overwrites
it. docs/teaching.md walks through the whole workflow.
"""

import os

from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)

from gan_utils.grading import ClearExerciseOutput, NameTheExercise

c = get_config()  # noqa: F821 (nbgrader defines it)

c.CourseDirectory.course_id = "gans-from-scratch"

# Grade in fast mode: every submission trains its own models (setup() gives each graded run a fresh checkpoint
# folder), and no check depends on how long a model trained. An environment variable set by hand wins.
os.environ.setdefault("GAN_MODE", "fast")

# Per-cell time limit. nbgrader's default is 30 s. Measured on a 2-core CPU, a whole notebook runs in 9-40 s in
# fast mode (README's course map; at most 60 s by design), so no single cell takes longer than 60 s there. 300 s
# leaves a margin of 5 for a machine 2.5 times slower that also grades several submissions at once.
c.Execute.timeout = 300

# Released copies keep the teaching figures and numbers of the committed default run: only the exercise cells
# lose their outputs (nbgrader's ClearOutput clears every cell), and the stubs name their exercise.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions, NameTheExercise, ClearExerciseOutput,
    CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme, ComputeChecksums,
    CheckCellMetadata,
]

# Collecting from an LMS download (`nbgrader zip_collect aN`): put the downloaded zip in downloaded/aN/archive/.
# Moodle's "Download all submissions" names each learner's folder "<login>_<number>_assignsubmission_file_":
#     .../alice_1234_assignsubmission_file_/01_vanilla_gan.ipynb  ->  submitted/alice/aN/01_vanilla_gan.ipynb
# For Canvas ("alice_1234_5678_01_vanilla_gan.ipynb") use r".*/(?P<student_id>[^/_]+)_\d+_\d+_(?P<file_id>\d\d_\w+\.ipynb)$".
c.ZipCollectApp.collector_plugin = "nbgrader.plugins.zipcollect.FileNameCollectorPlugin"
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/_]+)_[^/]*/(?P<file_id>\d\d_\w+\.ipynb)$"
