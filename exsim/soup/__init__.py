"""
Nasdaq-style endpoints: the SoupBinTCP 4.0 session layer
(L{exsim.soup.session}), OUCH 4.2 order entry (L{exsim.soup.ouch}) and
the ITCH 5.0 feed (L{exsim.soup.itch}).
"""
