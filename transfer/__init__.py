"""One-key, attended and three-way transfers between the desks and to member
units: the machine, its AMI translation, the service, storage and API."""
