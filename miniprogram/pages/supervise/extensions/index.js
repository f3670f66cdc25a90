// 延期审批: pending extension requests, oldest first; approve, or deny with
// a reason; a row opens its case.
const pagedList = require('../../../behaviors/paged-list')

Component({
  behaviors: [pagedList],
  methods: {
    onShow() {
      return this.reload()
    },
    listUrl(page) {
      return '/supervision/extensions?status=pending&page=' + page
    },
    shapeItem(ext) {
      return ext
    },
    onDecided() {
      return this.reload()
    },
  },
})
