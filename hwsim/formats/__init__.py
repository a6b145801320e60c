"""Element formats: how a real number becomes a low-bit code and back.

    from lowbit.hwsim import formats
    formats.names()                     # every registered format
    fmt = formats.get("float8_e4m3fn")  # ValueError naming the known formats if unknown
    codes = fmt.encode(x, saturate=False)
    y = fmt.decode(codes)
    fmt.values()                        # the value of every code, indexed by code
"""
from lowbit.hwsim.formats.base import Format, as_float_array, get, names, register

# Importing a family module registers its formats.
from lowbit.hwsim.formats import floats, integers, log, binary  # noqa: E402,F401

__all__ = ["Format", "as_float_array", "get", "names", "register"]
