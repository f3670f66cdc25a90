// The one place that names the backend. Set it to the county's HTTPS domain
// (which must also be a "request" and "uploadFile" legal domain in the
// mini-program console) before publishing.
module.exports = {
  baseUrl: 'http://127.0.0.1:8000',
  apiPrefix: '/api/v1',
}
