# -*- test-case-name: tests.test_fix_orders -*-
"""
FIX application versions: what differs between them in order-entry
messages, gathered in one L{Profile} per version.

ExecTransType (20) in FIX.4.0-4.2 only, ExecType (150) from FIX.4.1, fills
as ExecType 1/2 up to FIX.4.2 and F (Trade) from FIX.4.3, OrdStatus 5
(Replaced) up to FIX.4.2, LeavesQty from FIX.4.1, timestamps with
milliseconds from FIX.4.2, reject reason codes as each version enumerates
them.
"""

from decimal import Decimal, InvalidOperation

from exsim.fix.convert import plainDecimal
from exsim.fix.utctime import UTCTimestampFormatter
from exsim.model import RejectReason

#: ApplVerID (1128) codes and the version name they stand for.
APPL_VER_IDS = {
    "2": "FIX.4.0",
    "3": "FIX.4.1",
    "4": "FIX.4.2",
    "5": "FIX.4.3",
    "6": "FIX.4.4",
    "7": "FIX.5.0",
    "8": "FIX.5.0SP1",
    "9": "FIX.5.0SP2",
}

_VERSION_RANK = {
    "FIX.4.0": 40,
    "FIX.4.1": 41,
    "FIX.4.2": 42,
    "FIX.4.3": 43,
    "FIX.4.4": 44,
    "FIX.5.0": 50,
    "FIX.5.0SP1": 51,
    "FIX.5.0SP2": 52,
}


def applicationVersion(beginString, applVerId=None):
    """
    The application version a session speaks: its BeginString, or for
    FIXT.1.1 the version its ApplVerID names (FIX.5.0SP2 by default).
    """
    if beginString == "FIXT.1.1":
        return APPL_VER_IDS.get(applVerId or "9", "FIX.5.0SP2")
    return beginString


class Profile:
    """
    How one FIX application version writes order-entry messages.

    @ivar version: e.g. C{"FIX.4.2"} or C{"FIX.5.0SP2"}.
    @ivar rank: 40 for FIX.4.0 ... 52 for FIX.5.0SP2, for comparisons.
    """

    def __init__(self, version):
        self.version = version
        rank = self.rank = _VERSION_RANK.get(version, 52)
        #: ExecTransType (20) is required up to FIX.4.2, gone after.
        self.execTransType = rank <= 42
        #: ExecType (150) exists from FIX.4.1.
        self.execType = rank >= 41
        #: Fills are ExecType F (Trade) from FIX.4.3, 1/2 before.
        self.tradeExecType = rank >= 43
        #: OrdStatus 5 (Replaced) on a replace, up to FIX.4.2.
        self.replacedStatus = rank <= 42
        #: LeavesQty (151) and OrigClOrdID (41) exist from FIX.4.1.
        self.leavesQty = rank >= 41
        self.origClOrdId = rank >= 41
        #: Pending replace is E from FIX.4.2; FIX.4.0/4.1 have only 6
        #: (pending cancel/replace).
        self.pendingReplace = "E" if rank >= 42 else "6"
        #: UTCTimestamp with milliseconds from FIX.4.2.
        self.millis = rank >= 42
        #: Quantities are integers (INT) in FIX.4.0/4.1, QTY after.
        self.intQty = rank <= 41
        #: ExecType I (Order Status) from FIX.4.3; before it, a status
        #: report has ExecTransType 3 (Status).
        self.statusExecType = rank >= 43
        #: OrderCancelReject: OrdStatus and OrigClOrdID from 4.1,
        #: CxlRejResponseTo from 4.2.
        self.cxlRejStatus = rank >= 41
        self.cxlRejResponseTo = rank >= 42
        #: LastLiquidityInd (851) from FIX.4.4; TrdMatchID (880) and
        #: AggressorIndicator (1057) in the ExecutionReport from FIX.5.0SP2.
        self.lastLiquidityInd = rank >= 44
        self.trdMatchId = rank >= 52
        #: LastLiquidityInd 4 (auction execution) from FIX.5.0SP1.
        self.auctionLiquidity = rank >= 51
        #: The client of an order on a drop copy: ClientID (109) up to
        #: FIX.4.2, a Parties block (453/448/447/452) from FIX.4.3.
        self.parties = rank >= 43
        #: LastShares (32) and LastPx (31) are required on every
        #: ExecutionReport in FIX.4.0/4.1 (zero when nothing was filled).
        self.lastRequired = rank <= 41
        #: ExpireDate (432) exists from FIX.4.2.
        self.expireDate = rank >= 42
        #: The fields of the advanced order types an ExecutionReport of
        #: this version has (StopPx 99, MaxFloor 111, MinQty 110, ExecInst
        #: 18, DisplayQty 1138, PegPriceType 1094, SelfMatchPreventionID
        #: 2362, ExecRestatementReason 378, MassStatusReqID 584,
        #: TotNumReports 911, LastRptRequested 912), from its dictionary.
        self.reportTags = _reportTags(version)
        #: A stop that triggered: ExecType L (Triggered) from FIX.5.0, D
        #: (Restated) in FIX.4.2 to 4.4 (with ExecRestatementReason 8,
        #: Market option, from FIX.4.3), no report before.
        self.triggerExecType = "L" if rank >= 50 else ("D" if rank >= 42 else None)
        self.triggerReason = "8" if 43 <= rank < 50 else None
        #: ExecRestatementReason of a self-trade prevention cancel: the
        #: self-match codes of FIX.5.0SP2 (18 the incoming order, 19 the
        #: resting one), 99 (Other) from FIX.4.4, none before.
        if rank >= 52:
            self.stpReasons = ("18", "19")
        elif rank >= 44:
            self.stpReasons = ("99", "99")
        else:
            self.stpReasons = None
        self.ordRejReasons = _ordRejReasons(rank)
        self.cxlRejReasons = _cxlRejReasons(rank)
        #: The L{UTCTimestampFormatter} of this version's timestamps, and
        #: stamp(seconds), the UTCTimestamp (text) of a time as this
        #: version writes it (the formatter's own method: one call).
        self.stamps = UTCTimestampFormatter(self.millis)
        self.stamp = self.stamps.format

    def qty(self, value):
        """
        A quantity as FIX text (integers; a rejected order's odd quantity
        as given, or its whole part where the version wants an INT).
        """
        if type(value) is int:
            return str(value)
        if value is None:
            return "0"
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return "0"
        if not number.is_finite():
            return "0"
        if self.intQty:
            return str(int(number))
        return plainDecimal(number)

    def __repr__(self):
        return "<Profile %s>" % (self.version,)


#: The tags L{Profile.reportTags} may hold.
_ADVANCED_REPORT_TAGS = (99, 111, 110, 18, 1138, 1094, 2362, 378, 584, 911, 912)


def _reportTags(version):
    from exsim.fix.dictionary import APPL_VER_NAMES, forVersion

    if version in APPL_VER_NAMES:
        dictionary = forVersion("FIXT.1.1", APPL_VER_NAMES[version])
    else:
        try:
            dictionary = forVersion(version)
        except Exception:
            return frozenset()
    return frozenset(tag for tag in _ADVANCED_REPORT_TAGS if dictionary.hasField("8", tag))


def _ordRejReasons(rank):
    other = "99" if rank >= 44 else "0"
    unsupported = "11" if rank >= 43 else "0"
    reasons = {
        RejectReason.UNKNOWN_SYMBOL: "1",
        RejectReason.EXCHANGE_CLOSED: "2",
        # FIX has no code of its own for a halted book: exchange closed,
        # with the phase in Text.
        RejectReason.HALTED: "2",
        RejectReason.TOO_LATE: "4",
        RejectReason.UNKNOWN_ORDER: "5" if rank >= 41 else "0",
        RejectReason.DUPLICATE_ORDER: "6" if rank >= 41 else "0",
        RejectReason.BAD_QUANTITY: "13" if rank >= 44 else "0",
        RejectReason.BAD_PRICE: other,
        RejectReason.UNSUPPORTED_ORDER_TYPE: unsupported,
        RejectReason.UNSUPPORTED_TIME_IN_FORCE: unsupported,
        RejectReason.BEHAVIOUR: other,
        RejectReason.OTHER: other,
    }
    return reasons


def _cxlRejReasons(rank):
    if rank <= 41:
        # Only 0 (too late) and 1 (unknown order) exist.
        return {RejectReason.TOO_LATE: "0", RejectReason.UNKNOWN_ORDER: "1"}
    other = "99" if rank >= 44 else "2"
    return {
        RejectReason.TOO_LATE: "0",
        RejectReason.UNKNOWN_ORDER: "1",
        RejectReason.DUPLICATE_ORDER: "6" if rank >= 43 else "2",
        RejectReason.BAD_PRICE: other,
        RejectReason.BAD_QUANTITY: other,
        RejectReason.OTHER: other,
        RejectReason.BEHAVIOUR: other,
        "pending": "3",
    }


_PROFILES = {}


def profileFor(beginString, applVerId=None):
    """
    The (shared) L{Profile} of a session's version.
    """
    version = applicationVersion(beginString, applVerId)
    profile = _PROFILES.get(version)
    if profile is None:
        profile = _PROFILES[version] = Profile(version)
    return profile
