#include "werr.h"

#include <stdio.h>
#include <string.h>

#include "text.h"
#include "weft_cni_gen.h"

/* Parameter values are bounded: the largest is an agent message out of a 64 KiB body. */
#define PARAM_MAX (256 * 1024)

void werr_init(werr_t *e) {
  e->code = NULL;
  e->nparams = 0;
  for (int k = 0; k < WERR_MAX_PARAMS; k++) {
    e->params[k].key = NULL;
    buf_init(&e->params[k].val, PARAM_MAX);
  }
}

void werr_free(werr_t *e) {
  for (int k = 0; k < WERR_MAX_PARAMS; k++) buf_free(&e->params[k].val);
  e->code = NULL;
  e->nparams = 0;
}

int werr_set(werr_t *e, const char *code) {
  e->code = code;
  for (int k = 0; k < e->nparams; k++) {
    buf_reset(&e->params[k].val);
    e->params[k].val.over = 0;
    e->params[k].key = NULL;
  }
  e->nparams = 0;
  return -1;
}

static buf_t *param_slot(werr_t *e, const char *key) {
  for (int k = 0; k < e->nparams; k++) {
    if (strcmp(e->params[k].key, key) == 0) {
      buf_reset(&e->params[k].val);
      return &e->params[k].val;
    }
  }
  if (e->nparams >= WERR_MAX_PARAMS) return NULL;
  e->params[e->nparams].key = key;
  return &e->params[e->nparams++].val;
}

void werr_param(werr_t *e, const char *key, const char *val, size_t n) {
  buf_t *b = param_slot(e, key);
  if (b != NULL) (void)buf_put(b, val, n);
}

void werr_param_str(werr_t *e, const char *key, const char *val) { werr_param(e, key, val, strlen(val)); }

void werr_param_int(werr_t *e, const char *key, long long val) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%lld", val);
  werr_param(e, key, tmp, (size_t)n);
}

static const buf_t *param_of(const werr_t *e, const char *key) {
  for (int k = 0; k < e->nparams; k++) {
    if (strcmp(e->params[k].key, key) == 0) return &e->params[k].val;
  }
  return NULL;
}

const char *werr_get(const werr_t *e, const char *key) {
  const buf_t *b = param_of(e, key);
  return b != NULL ? buf_str(b) : NULL;
}

static const weft_code_t *lookup(const char *code, size_t n) {
  for (size_t k = 0; k < WEFT_CODES_N; k++) {
    if (strlen(WEFT_CODES[k].name) == n && memcmp(WEFT_CODES[k].name, code, n) == 0) return &WEFT_CODES[k];
  }
  return NULL;
}

static int is_word(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* `{name}` → the parameter's value; unknown names stay as written (lib/errors render()). */
static int render(buf_t *out, const char *tmpl, const werr_t *e) {
  const char *p = tmpl;
  while (*p != '\0') {
    const char *open = strchr(p, '{');
    if (open == NULL) return buf_puts(out, p);
    if (buf_put(out, p, (size_t)(open - p)) < 0) return -1;
    const char *q = open + 1;
    while (is_word(*q)) q++;
    if (*q == '}' && q > open + 1) {
      char name[64];
      size_t n = (size_t)(q - open - 1);
      const buf_t *val = NULL;
      if (n < sizeof name) {
        memcpy(name, open + 1, n);
        name[n] = '\0';
        val = param_of(e, name);
      }
      if (val != NULL) {
        if (buf_put(out, buf_str(val), val->len) < 0) return -1;
      } else if (buf_put(out, open, (size_t)(q - open + 1)) < 0) {
        return -1;
      }
      p = q + 1;
    } else {
      if (buf_putc(out, '{') < 0) return -1;
      p = open + 1;
    }
  }
  return 0;
}

static const weft_code_t *spec_of(const werr_t *e) {
  const weft_code_t *spec = e->code != NULL ? lookup(e->code, strlen(e->code)) : NULL;
  return spec != NULL ? spec : lookup("ERR_WEFT_CNI_INTERNAL", strlen("ERR_WEFT_CNI_INTERNAL"));
}

int werr_message(buf_t *out, const werr_t *e) { return render(out, spec_of(e)->message, e); }

int werr_cni_code(const werr_t *e) {
  const weft_code_t *spec = spec_of(e);
  if (strcmp(spec->name, "ERR_WEFT_CNI_ENROLL_FAILED") == 0) {
    const buf_t *agent = param_of(e, "agentCode");
    const weft_code_t *own = agent != NULL ? lookup(buf_str(agent), agent->len) : NULL;
    if (own != NULL && own->cni > 0) return own->cni;
  }
  return spec->cni > 0 ? spec->cni : WEFT_CNI_INTERNAL_CODE;
}

int werr_cni_json(buf_t *out, const werr_t *e, const char *cni_version) {
  const weft_code_t *spec = spec_of(e);
  buf_t msg, details;
  buf_init(&msg, PARAM_MAX * 2);
  buf_init(&details, PARAM_MAX * 2);
  int rc = -1;
  if (render(&msg, spec->message, e) < 0) goto done;
  if (buf_puts(&details, spec->name) < 0 || buf_puts(&details, ": ") < 0 || render(&details, spec->hint, e) < 0) goto done;
  const buf_t *agent_hint = param_of(e, "agentHint");
  if (agent_hint != NULL && agent_hint->len > 0 && (buf_puts(&details, " Agent: ") < 0 || buf_put(&details, buf_str(agent_hint), agent_hint->len) < 0)) goto done;
  if (buf_puts(out, "{\"cniVersion\":") < 0 || text_json_quote(out, cni_version, strlen(cni_version)) < 0) goto done;
  if (buf_printf(out, ",\"code\":%d,\"msg\":", werr_cni_code(e)) < 0 || text_json_quote(out, msg.p != NULL ? msg.p : "", msg.len) < 0) goto done;
  if (buf_puts(out, ",\"details\":") < 0 || text_json_quote(out, details.p != NULL ? details.p : "", details.len) < 0) goto done;
  rc = buf_puts(out, "}\n");
done:
  buf_free(&msg);
  buf_free(&details);
  return rc;
}
