/*
 * bod.h: Infor BODs (InforOAGIS/2 XML) for goods receipts and advance ship
 * notices, built with libxml2 from a template (research: ion-bod.md).
 * libxml2 is loaded at the first mlc_bod_new() (lib/dynlib), not linked: a run
 * that makes no BOD does not map it; when it cannot be loaded, mlc_bod_new() is
 * MLC_ERR_CONFIG naming libxml2.so.2.
 *
 * A template is an XML document whose text and attribute values may hold
 * placeholders `${NAME}` (see MLC_BOD_PLACEHOLDERS in bod.c and mlc.yaml(5)).
 * The built-in templates (ReceiveDelivery, AdvanceShipNotice) follow the
 * envelope Infor documents (ApplicationArea/Sender/LogicalID, CreationDateTime,
 * BODID; DataArea/<Verb>/TenantID, AccountingEntityID, LocationID,
 * ActionCriteria) and, for the noun, element names that are partly INFERRED
 * (marked in bod.c); a profile overrides them with bod.receipt_template /
 * bod.asn_template.  Values are set as node content and serialised by libxml2,
 * so nothing is escaped by hand; a value that XML 1.0 cannot carry (invalid
 * UTF-8, control characters) is refused naming the field.  A placeholder whose
 * value is absent removes the element (or attribute) that holds only it.
 * Templates are parsed without network access, entity expansion or DTDs.
 *
 * Not here: sending (lib/ims), the ledger (lib/receipt).
 * Ownership: mlc_bod_new() -> mlc_bod_free(); XML and strings returned are
 * malloc'd and owned by the caller (free()).
 */
#ifndef MLC_BOD_H
#define MLC_BOD_H

#include "error.h"
#include <stddef.h>

typedef struct mlc_bod mlc_bod;

#define MLC_BOD_NS "http://schema.infor.com/InforOAGIS/2"

/* The values of one document (one PO line).  NULL = absent. */
typedef struct mlc_bod_fields {
    const char *logical_id;        /* Sender/LogicalID = the connection point's lid (required) */
    const char *tenant_id;         /* required */
    const char *accounting_entity; /* required */
    const char *location;          /* required */
    const char *document_id;       /* the receipt's stable id: DocumentID and the BODID (required) */
    const char *revision;          /* BODID revision; NULL = "" */
    const char *creation_time;     /* ISO 8601 UTC; NULL = now */
    const char *puno;              /* PO number (required) */
    long pnli, pnls;               /* PO line, subline */
    const char *item;              /* M3 item number (required) */
    double qty;                    /* quantity (required, > 0) */
    const char *unit;              /* unit of measure; NULL = absent */
    const char *warehouse;         /* M3 warehouse (required) */
    const char *supplier;          /* M3 supplier */
    const char *delivery_note;     /* the tracking number */
    const char *carrier;
    const char *date; /* delivery/ship date-time, ISO 8601 */
} mlc_bod_fields;

/* document: "Verb.Noun", e.g. "Process.ReceiveDelivery".  template_path: an XML
 * template file, or NULL for the built-in template of the noun (ReceiveDelivery,
 * AdvanceShipNotice; others need a file).  The root element of a file must be
 * <VerbNoun> in the InforOAGIS/2 namespace.  MLC_ERR_CONFIG naming the file. */
mlc_err mlc_bod_new(const char *document, const char *template_path, mlc_bod **out, mlc_error *err);
void mlc_bod_free(mlc_bod *b);

const char *mlc_bod_verb(const mlc_bod *b);
const char *mlc_bod_noun(const mlc_bod *b);
/* The IMS documentName: "Verb.Noun" as configured.  [INF] see bod.c. */
const char *mlc_bod_document_name(const mlc_bod *b);

/* Builds the XML (UTF-8, with declaration).  MLC_ERR_INPUT naming the field for a
 * missing required value or one XML cannot carry. */
mlc_err mlc_bod_build(const mlc_bod *b, const mlc_bod_fields *f, char **xml, size_t *len, mlc_error *err);

/* Infor's BODID: infor-nid:<tenant>:<AE>:<location>:<documentId>:<revision>?<Noun>&verb=<Verb>. */
char *mlc_bod_bodid(const char *tenant, const char *ae, const char *location, const char *document_id,
                    const char *revision, const char *noun, const char *verb);

#endif
