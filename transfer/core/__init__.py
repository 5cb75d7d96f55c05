"""The transfer machine and everything pure around it: what a key means, what
an AMI event means for a running transfer, how a command is said to Asterisk."""
