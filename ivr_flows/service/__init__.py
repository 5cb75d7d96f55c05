"""The way in at run time: prompt rendering, the FastAGI answers, queue events."""
