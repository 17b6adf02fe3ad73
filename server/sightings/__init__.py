"""Devices on a unit's network that nobody registered (网内未注册设备), found without scanning:
from the agents' neighbour tables and from DHCP lease and switch MAC table files an admin
imports."""
