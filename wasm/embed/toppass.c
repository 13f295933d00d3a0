/*
 * toppass.c: a small CPython embedding built as a WASI reactor.
 *
 * python.wasm's _start runs one program and exits; toppass needs thousands of
 * programs per second, each in a fresh interpreter. This module exports:
 *
 *   toppass_init(src, n)   start the interpreter, run the harness source as
 *                          module _toppass (it imports the common modules)
 *   toppass_run(req, n)    call _toppass.run(req) and return a pointer to
 *                          [u32 length][bytes] holding its JSON reply
 *   toppass_fds()          a bit set of the open file descriptors 0..31
 *   toppass_alloc/free     buffers for the host
 *
 * The host calls toppass_init once, copies the linear memory (the "image"),
 * and restores that image before every toppass_run: a fresh interpreter for
 * the price of a memory copy. Nothing here keeps state outside linear memory
 * (the build is single-threaded and the only mutable global is the stack
 * pointer, which is back at its initial value whenever a call returns).
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static PyObject *run_fn;


/* _toppass_host.sleep(seconds): time.sleep for the sandbox. CPython 3.11's
 * WASI build has no working sleep (select() without descriptors is not
 * supported); this one waits on a WASI clock subscription, which the host
 * serves with a sleep that never outlasts the run's deadline. */
static PyObject *host_sleep(PyObject *self, PyObject *arg) {
    (void)self;
    double secs = PyFloat_AsDouble(arg);
    if (secs == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    if (!(secs >= 0)) {
        PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
        return NULL;
    }
    if (secs > 1e9) {
        secs = 1e9;
    }
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = (__wasi_timestamp_t)(secs * 1e9);
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    __wasi_poll_oneoff(&sub, &ev, 1, &n);
    Py_RETURN_NONE;
}

static PyMethodDef host_methods[] = {
    {"sleep", host_sleep, METH_O, "sleep(seconds)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT, "_toppass_host", NULL, -1, host_methods,
};

static PyObject *host_init(void) { return PyModule_Create(&host_module); }

__attribute__((export_name("toppass_alloc"))) void *toppass_alloc(size_t n) {
    return malloc(n);
}

__attribute__((export_name("toppass_free"))) void toppass_free(void *p) {
    free(p);
}

static int fail(const char *what) {
    fprintf(stderr, "toppass_init: %s\n", what);
    if (PyErr_Occurred()) {
        PyErr_Print();
    }
    fflush(stderr);
    return 1;
}

__attribute__((export_name("toppass_init"))) int toppass_init(const char *src, size_t n) {
    if (PyImport_AppendInittab("_toppass_host", host_init) != 0) {
        return fail("inittab");
    }
    /* UTF-8 mode: stdio and file names are UTF-8, as on a usual Linux
     * host, whatever the (absent) locale says. */
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    PyStatus pst = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(pst)) {
        return fail("preinitialize");
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    config.buffered_stdio = 1;
    config.parse_argv = 0;
    config.pathconfig_warnings = 0;
    config.user_site_directory = 0;
    PyStatus st = PyConfig_SetString(&config, &config.home, L"/");
    if (!PyStatus_Exception(st)) {
        st = PyConfig_SetString(&config, &config.program_name, L"python3");
    }
    if (!PyStatus_Exception(st)) {
        config.module_search_paths_set = 1;
        st = PyWideStringList_Append(&config.module_search_paths, L"/lib/python3.11");
    }
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "toppass_init: %s: %s\n", st.func ? st.func : "", st.err_msg ? st.err_msg : "");
        fflush(stderr);
        return 1;
    }
    char *text = malloc(n + 1);
    if (text == NULL) {
        return fail("out of memory");
    }
    memcpy(text, src, n);
    text[n] = 0;
    PyObject *code = Py_CompileString(text, "<toppass-harness>", Py_file_input);
    free(text);
    if (code == NULL) {
        return fail("harness does not compile");
    }
    PyObject *mod = PyImport_ExecCodeModule("_toppass", code);
    Py_DECREF(code);
    if (mod == NULL) {
        return fail("harness failed");
    }
    run_fn = PyObject_GetAttrString(mod, "run");
    Py_DECREF(mod);
    if (run_fn == NULL) {
        return fail("harness has no run()");
    }
    return 0;
}

__attribute__((export_name("toppass_run"))) uint8_t *toppass_run(const char *req, size_t n) {
    if (run_fn == NULL) {
        return NULL;
    }
    PyObject *arg = PyBytes_FromStringAndSize(req, (Py_ssize_t)n);
    if (arg == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_CallOneArg(run_fn, arg);
    Py_DECREF(arg);
    if (res == NULL || !PyBytes_Check(res)) {
        PyErr_Clear();
        return NULL;
    }
    Py_ssize_t len = PyBytes_GET_SIZE(res);
    uint8_t *out = malloc((size_t)len + 4);
    if (out != NULL) {
        uint32_t l = (uint32_t)len;
        memcpy(out, &l, 4);
        memcpy(out + 4, PyBytes_AS_STRING(res), (size_t)len);
    }
    Py_DECREF(res);
    return out;
}

/* toppass_fds reports which of the descriptors 0..31 are open in the host's
 * descriptor table, so that the host can tell whether a candidate left one
 * open or closed one of the standard streams (that state lives outside
 * linear memory and would leak into the next candidate). */
__attribute__((export_name("toppass_fds"))) uint32_t toppass_fds(void) {
    uint32_t bits = 0;
    for (uint32_t fd = 0; fd < 32; fd++) {
        __wasi_fdstat_t st;
        if (__wasi_fd_fdstat_get(fd, &st) == 0) {
            bits |= 1u << fd;
        }
    }
    return bits;
}
