"""One-key, attended and three-way transfers between the desks. Built by the [transfer] issue."""
