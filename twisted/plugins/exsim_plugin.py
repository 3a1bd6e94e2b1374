from twisted.application.service import ServiceMaker

exsim = ServiceMaker(
    "exsim",
    "exsim.tap",
    "An exchange simulator: FIX, SoupBinTCP/OUCH and ITCH endpoints",
    "exsim",
)
