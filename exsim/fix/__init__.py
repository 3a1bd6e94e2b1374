"""
FIX endpoints: framing and validation (L{exsim.fix.codec},
L{exsim.fix.dictionary}), the session layer (L{exsim.fix.session},
L{exsim.fix.factory}, L{exsim.fix.store}, L{exsim.fix.settings}) and the
application layer (order entry, drop copy, market data).
"""
