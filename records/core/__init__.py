"""A case as the lifecycle sees it: the lifecycle table, what each command
carries, the words cases are made of. Pure: no asyncio, no database."""
