"""Not the course's skeleton: no class MLP."""


def forward(x):
    return x
