#!/usr/bin/env python3
"""
Generate exsim's FIX data dictionaries from the QuickFIX specification XML.

The FIX specification XML files ship in the QuickFIX source distribution on
PyPI::

    pip download --no-deps --no-binary :all: quickfix==1.16.0
    tar xzf quickfix-1.16.0.tar.gz
    python tools/gen_fix_dictionary.py quickfix-1.16.0

This writes one gzipped compact JSON file per FIX version to C{exsim/fix/spec/}
(components flattened, field names replaced by tag numbers) and copies the
QuickFIX licence notice beside them.  The JSON layout::

    {"beginString": "FIX.4.2", "applVerId": null,
     "fields": {"<tag>": [name, type, [enum values] or null]},
     "header": [[tag, required]...], "trailer": [[tag, required]...],
     "messages": {"<MsgType>": [name, "admin"|"app", items]}}

where C{items} is a list of C{[tag, required]} and, for a repeating group,
C{[countTag, required, items]}.
"""

import gzip
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET

SPECS = {
    "FIX40.xml": ("FIX.4.0", None),
    "FIX41.xml": ("FIX.4.1", None),
    "FIX42.xml": ("FIX.4.2", None),
    "FIX43.xml": ("FIX.4.3", None),
    "FIX44.xml": ("FIX.4.4", None),
    "FIXT11.xml": ("FIXT.1.1", None),
    "FIX50.xml": ("FIX.5.0", "7"),
    "FIX50SP1.xml": ("FIX.5.0SP1", "8"),
    "FIX50SP2.xml": ("FIX.5.0SP2", "9"),
}


def convert(path, beginString, applVerId):
    root = ET.parse(path).getroot()
    tags = {}
    fields = {}
    for f in root.find("fields"):
        number = int(f.get("number"))
        tags[f.get("name")] = number
        enums = [v.get("enum") for v in f.findall("value")] or None
        fields[str(number)] = [f.get("name"), f.get("type"), enums]
    components = {c.get("name"): c for c in (root.find("components") or [])}

    def items(node, required=True):
        out = []
        for child in node:
            req = required and child.get("required") == "Y"
            if child.tag == "field":
                out.append([tags[child.get("name")], req])
            elif child.tag == "group":
                out.append([tags[child.get("name")], req, items(child, True)])
            elif child.tag == "component":
                # A component's fields are required only if it is.
                out.extend(items(components[child.get("name")], req))
            else:
                raise ValueError("unexpected element %r in %s" % (child.tag, path))
        return out

    messages = {}
    for m in root.find("messages"):
        messages[m.get("msgtype")] = [m.get("name"), m.get("msgcat"), items(m)]
    return {
        "beginString": beginString,
        "applVerId": applVerId,
        "fields": fields,
        "header": items(root.find("header")),
        "trailer": items(root.find("trailer")),
        "messages": messages,
    }


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen_fix_dictionary.py QUICKFIX_SDIST_DIR\n")
        return 2
    source = argv[1]
    specDir = os.path.join(source, "spec")
    out = os.path.join(os.path.dirname(__file__), "..", "exsim", "fix", "spec")
    os.makedirs(out, exist_ok=True)
    for filename, (beginString, applVerId) in SPECS.items():
        data = convert(os.path.join(specDir, filename), beginString, applVerId)
        target = os.path.join(out, filename.replace(".xml", ".json.gz"))
        text = json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n"
        # mtime=0: the same input gives byte-identical output.
        with open(target, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
                f.write(text.encode("utf-8"))
        print("%s: %d messages, %d fields" % (target, len(data["messages"]), len(data["fields"])))
    # Data fields (values may hold SOH) and the length field before each.
    dataTags = {}
    for filename in SPECS:
        root = ET.parse(os.path.join(specDir, filename)).getroot()
        types = {f.get("name"): (int(f.get("number")), f.get("type")) for f in root.find("fields")}
        for parent in root.iter():
            previous = None
            for child in parent:
                name = child.get("name")
                if child.tag == "field" and previous is not None:
                    (lengthTag, lengthType), (dataTag, dataType) = types[previous], types[name]
                    if lengthType == "LENGTH" and dataType in ("DATA", "XMLDATA"):
                        dataTags[str(lengthTag)] = dataTag
                previous = name if child.tag == "field" else None
    with open(os.path.join(out, "datafields.json"), "w") as f:
        json.dump(dataTags, f, sort_keys=True)
        f.write("\n")
    print("data fields: %s" % (dataTags,))
    shutil.copy(os.path.join(source, "LICENSE"), os.path.join(out, "LICENSE.quickfix"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
