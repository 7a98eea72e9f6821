/*
 * clientcert.c: check the client certificate of each HTTPS request against
 * the CA of --tls-client-ca (clientcert.h). The chain, the validity dates
 * and the purpose (TLS client) are checked by GnuTLS, the library under
 * libmicrohttpd; the refusal says which of them failed.
 */
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/cause.h"
#include "gateway/access/clientcert.h"

enum clientcert_result clientcert_ca_valid(const char *pem, const char *path, char **cause)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;
	gnutls_datum_t data = {(unsigned char *)pem, (unsigned)strlen(pem)};
	int err = gnutls_x509_crt_list_import2(&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0);

	if (err < 0) {
		cause_set(cause, "--tls-client-ca %s: no PEM certificate to trust in it: %s", path,
		          gnutls_strerror(err));
		return CLIENTCERT_BAD_CA;
	}
	if (n == 0) {
		cause_set(cause, "--tls-client-ca %s: no PEM certificate to trust in it", path);
		return CLIENTCERT_BAD_CA;
	}
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return CLIENTCERT_OK;
}

/* A short reason for a failed verification's status bits. */
static const char *clientcert_reason(unsigned status)
{
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return "it is not signed by a CA the server trusts";
	if (status & GNUTLS_CERT_EXPIRED)
		return "it has expired";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "it is not valid yet";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "it is not meant for TLS clients (extendedKeyUsage)";
	if (status & GNUTLS_CERT_REVOKED)
		return "it has been revoked";
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return "it is signed with an insecure algorithm";
	return "its signature or chain does not verify";
}

enum clientcert_result clientcert_check(struct MHD_Connection *c, char **cause)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = info != NULL ? (gnutls_session_t)info->tls_session : NULL;
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
	                                 (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	unsigned status = 0;
	int err;

	if (session == NULL) {
		cause_set(cause, "a client certificate is required, and this is not TLS");
		return CLIENTCERT_MISSING;
	}
	err = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
	if (err == GNUTLS_E_NO_CERTIFICATE_FOUND) {
		cause_set(cause, "a client certificate signed by the server's CA is required");
		return CLIENTCERT_MISSING;
	}
	if (err < 0) {
		cause_set(cause, "the client certificate cannot be checked: %s", gnutls_strerror(err));
		return CLIENTCERT_INVALID;
	}
	if (status != 0) {
		cause_set(cause, "the client certificate is refused: %s", clientcert_reason(status));
		return CLIENTCERT_INVALID;
	}
	return CLIENTCERT_OK;
}
