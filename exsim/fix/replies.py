# -*- test-case-name: tests.test_fix_orders -*-
"""
The FIX order-entry replies that are not engine events: the
ExecutionReport answering an OrderStatusRequest, and the OrderCancelReject
(9) for a refused cancel or replace, and the reject of a new order the
engine cannot represent.
"""

from exsim.fix.reports import orderFields, reportHead, reportTail
from exsim.model import OrdStatus, RejectReason


def statusReport(profile, order, execId, stamp, scale, clOrdId=None):
    """
    The ExecutionReport answering an OrderStatusRequest for C{order} (its
    current state).
    """
    status = order.status.value
    execType = "I" if profile.statusExecType else status
    fields = reportHead(profile, order, order.clOrdId, None, execId, "3", execType, status)
    orderFields(profile, fields, order, order.quantity, order.price, scale)
    reportTail(profile, fields, order.leavesQty, order.cumQty, order.notional, scale, stamp)
    return fields


def cancelReject(profile, event, stamp, doneStatus=None, doneOrderId=None):
    """
    The OrderCancelReject (9) body for a L{CancelRejected} event.

    @param doneStatus: the final L{OrdStatus} of the target order if it is
        known to have finished (too late to cancel).
    """
    order = event.order
    if order is not None:
        orderId = str(order.orderId)
    elif doneOrderId is not None:
        orderId = str(doneOrderId)
    else:
        orderId = "NONE"
    fields = [(37, orderId), (11, event.clOrdId or "NONE")]
    origClOrdId = event.origClOrdId
    if origClOrdId is None and order is not None:
        origClOrdId = order.clOrdId
    if profile.cxlRejStatus:
        if profile.rank < 52 or origClOrdId is not None:
            fields.append((41, origClOrdId or "NONE"))
        if event.status is not None:
            status = event.status.value
        elif doneStatus is not None:
            status = doneStatus.value
        else:
            status = "8"
        fields.append((39, status))
    if profile.cxlRejResponseTo:
        fields.append((60, stamp))
        fields.append((434, "1" if event.responseTo == "cancel" else "2"))
    reasons = profile.cxlRejReasons
    reason = event.reason
    if reason is RejectReason.OTHER and event.status in (
        OrdStatus.PENDING_CANCEL,
        OrdStatus.PENDING_REPLACE,
    ):
        reason = "pending"
    code = reasons.get(reason)
    if code is None and profile.rank >= 42:
        code = reasons[RejectReason.OTHER]
    if code is not None:
        fields.append((102, code))
    if event.text:
        fields.append((58, event.text))
    return fields



def unknownOrderStatus(profile, orderIdText, clOrdId, symbol, sideCode, execId, stamp):
    """
    The ExecutionReport answering an OrderStatusRequest for an order that
    is not known: OrdStatus 8 (Rejected), OrdRejReason unknown order.

    @param orderIdText: the request's OrderID (37), or None.
    @param symbol: its Symbol (55), or None.
    @param sideCode: its Side (54).
    """
    fields = [(37, orderIdText or "NONE")]
    if clOrdId is not None:
        fields.append((11, clOrdId))
    fields.append((17, execId))
    if profile.execTransType:
        fields.append((20, "3"))
    if profile.execType:
        fields.append((150, "I" if profile.statusExecType else "8"))
    fields.append((39, "8"))
    fields.append((103, profile.ordRejReasons[RejectReason.UNKNOWN_ORDER]))
    if symbol is not None:
        fields.append((55, symbol))
    elif profile.rank <= 42:
        fields.append((55, "NONE"))
    fields.append((54, sideCode))
    if profile.rank <= 41:
        fields.append((38, "0"))
    reportTail(profile, fields, 0, 0, 0, 10000, stamp, "unknown order")
    return fields


def localReject(profile, clOrdId, symbol, sideCode, quantity, execId, stamp, text):
    """
    The ExecutionReport rejecting a new order the engine cannot represent
    (an unsupported side), with a local ExecID.
    """
    fields = [(37, "NONE"), (11, clOrdId), (17, execId)]
    if profile.execTransType:
        fields.append((20, "0"))
    if profile.execType:
        fields.append((150, "8"))
    fields.append((39, "8"))
    fields.append((103, profile.ordRejReasons[RejectReason.OTHER]))
    fields.append((55, symbol))
    fields.append((54, sideCode))
    fields.append((38, profile.qty(quantity)))
    reportTail(profile, fields, 0, 0, 0, 10000, stamp, text)
    return fields


def massCancelReport(
    profile, clOrdId, reportId, requestType, response, affected, symbol, sideCode, rejection=None,
):
    """
    The OrderMassCancelReport (r) body answering an OrderMassCancelRequest.

    @param response: MassCancelResponse (531): the request type when it is
        carried out, 0 when it is rejected.
    @param affected: TotalAffectedOrders (533).
    @param rejection: (MassCancelRejectReason code, text), or None.
    """
    fields = [(11, clOrdId), (37, reportId)]
    if profile.rank >= 51:
        # MassActionReportID, required from FIX.5.0SP1.
        fields.append((1369, reportId))
    fields.extend([(530, requestType), (531, response)])
    if rejection is not None:
        fields.append((532, rejection[0]))
    fields.append((533, str(affected)))
    if symbol is not None:
        fields.append((55, symbol))
    if sideCode is not None:
        fields.append((54, sideCode))
    if rejection is not None:
        fields.append((58, rejection[1]))
    return fields


def massStatusNone(profile, requestId, symbol, execId, stamp, text):
    """
    The one ExecutionReport answering an OrderMassStatusRequest that has no
    order to report (or cannot be answered): OrderID NONE, ExecType I,
    OrdStatus 8, and C{text}.
    """
    fields = [(37, "NONE"), (17, execId)]
    if profile.execTransType:
        fields.append((20, "3"))
    fields.append((150, "I"))
    fields.append((39, "8"))
    fields.append((55, symbol or "NONE"))
    fields.append((54, "1"))
    reportTail(profile, fields, 0, 0, 0, 10000, stamp, text)
    fields.insert(len(fields) - 1, (584, requestId))
    tags = profile.reportTags
    if 911 in tags:
        fields.append((911, "0"))
    if 912 in tags:
        fields.append((912, "Y"))
    return fields
