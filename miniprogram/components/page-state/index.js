// Loading, error (with a retry) and empty states, the same on every page.
Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    loading: { type: Boolean, value: false },
    error: { type: String, value: '' },
    empty: { type: Boolean, value: false },
    emptyText: { type: String, value: '暂无内容' },
  },
  methods: {
    retry() {
      this.triggerEvent('retry')
    },
  },
})
